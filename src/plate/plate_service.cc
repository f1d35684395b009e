#include "plate/plate_service.h"

#include <algorithm>
#include <chrono>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace custos::plate {

absl::StatusOr<std::unique_ptr<PlateService>> PlateService::Create(
    const PlateServiceOptions& options, PlateReader* reader, PlateStore* store,
    const HotlistStore* hotlist, HitSink sink, const Clock* clock) {
  if (reader == nullptr || store == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError("plate service: reader, store and clock are required");
  }
  if (options.sample_interval_ms < 0 || options.max_reads_per_track < 1 ||
      options.queue_capacity < 1 || options.min_vehicle_height_px < 0 || options.box_margin < 0 ||
      options.box_margin > 1 || options.idle_finish_ms < 100 ||
      !(options.min_plate_center_y >= 0 && options.min_plate_center_y < 1)) {
    return absl::InvalidArgumentError(
        "plate service: sample_interval_ms >= 0, max_reads_per_track >= 1, queue_capacity >= 1, "
        "box_margin in [0, 1], min_plate_center_y in [0, 1) and idle_finish_ms >= 100 are "
        "required");
  }
  return std::unique_ptr<PlateService>(
      new PlateService(options, reader, store, hotlist, std::move(sink), clock));
}

PlateService::PlateService(const PlateServiceOptions& options, PlateReader* reader,
                           PlateStore* store, const HotlistStore* hotlist, HitSink sink,
                           const Clock* clock)
    : options_(options),
      reader_(reader),
      store_(store),
      hotlist_(hotlist),
      sink_(std::move(sink)),
      clock_(clock) {
  thread_ = std::thread([this] { Run(); });
}

PlateService::~PlateService() { Stop(); }

void PlateService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PlateService::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || !thread_.joinable(); });
}

PlateServiceStats PlateService::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void PlateService::OnFrame(const std::string& camera, int64_t time_ms, cv::Size detect_size,
                           const cv::Mat& full, const std::vector<VehicleTrack>& tracks,
                           const std::vector<int64_t>& ended) {
  std::vector<Item> items;
  if (!full.empty() && detect_size.width > 0 && detect_size.height > 0) {
    const float sx = static_cast<float>(full.cols) / static_cast<float>(detect_size.width);
    const float sy = static_cast<float>(full.rows) / static_cast<float>(detect_size.height);
    const cv::Rect bounds(0, 0, full.cols, full.rows);
    std::lock_guard<std::mutex> lock(mu_);
    for (const VehicleTrack& t : tracks) {
      if (std::find(options_.vehicle_labels.begin(), options_.vehicle_labels.end(), t.label) ==
          options_.vehicle_labels.end()) {
        continue;
      }
      if (t.box.h * sy < static_cast<float>(options_.min_vehicle_height_px)) continue;
      Sampling& s = sampling_[{camera, t.id}];
      if (s.reads >= options_.max_reads_per_track ||
          (s.reads > 0 && time_ms - s.last_ms < options_.sample_interval_ms)) {
        continue;
      }
      const float mx = t.box.w * options_.box_margin;
      const float my = t.box.h * options_.box_margin;
      const cv::Rect region = cv::Rect(cv::Point(static_cast<int>((t.box.x - mx) * sx),
                                                 static_cast<int>((t.box.y - my) * sy)),
                                       cv::Point(static_cast<int>((t.box.x + t.box.w + mx) * sx),
                                                 static_cast<int>((t.box.y + t.box.h + my) * sy))) &
                              bounds;
      if (region.width < 16 || region.height < 16) continue;
      ++stats_.crops_offered;
      if (queue_.size() + items.size() >= options_.queue_capacity) {
        ++stats_.crops_dropped;
        continue;
      }
      s.last_ms = time_ms;
      ++s.reads;
      items.push_back({camera, t.id, t.label, time_ms, full(region).clone(), region});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (Item& item : items) queue_.push_back(std::move(item));
  for (const int64_t id : ended) {
    sampling_.erase({camera, id});
    queue_.push_back({camera, id, "", time_ms, cv::Mat(), cv::Rect()});
  }
  // Tracks that vanished without an end (a camera restarted) are forgotten here and finished
  // by the reader after idle_finish_ms.
  std::erase_if(sampling_, [&](const auto& entry) {
    return entry.first.camera == camera &&
           time_ms - entry.second.last_ms > 6 * options_.idle_finish_ms;
  });
  if (!items.empty() || !ended.empty()) cv_.notify_one();
}

void PlateService::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stop_) break;
      lock.unlock();
      FinishIdle(clock_->WallMs());
      lock.lock();
      continue;
    }
    Item item = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (item.crop.empty()) {
      Finish({item.camera, item.track_id});
    } else {
      ReadCrop(item);
    }
    lock.lock();
    busy_ = false;
    idle_cv_.notify_all();
  }
  lock.unlock();
  std::vector<TrackKey> open;
  for (const auto& [key, voting] : voting_) open.push_back(key);
  for (const TrackKey& key : open) Finish(key);
  lock.lock();
  idle_cv_.notify_all();
}

const PlateRead* PlateOfVehicle(const std::vector<PlateRead>& reads, int crop_height,
                                float min_plate_center_y) {
  for (const PlateRead& read : reads) {
    const float centre = static_cast<float>(read.box.y) + static_cast<float>(read.box.height) / 2;
    if (centre >= min_plate_center_y * static_cast<float>(crop_height)) return &read;
  }
  return nullptr;
}

void PlateService::ReadCrop(const Item& item) {
  absl::StatusOr<std::vector<PlateRead>> reads = reader_->Read(item.crop);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.crops_read;
  }
  if (!reads.ok()) {
    Error("reading a plate", reads.status());
    return;
  }
  Voting& v = voting_[{item.camera, item.track_id}];
  v.label = item.label;
  v.last_ms = item.time_ms;
  const PlateRead* plate = PlateOfVehicle(*reads, item.crop.rows, options_.min_plate_center_y);
  if (plate == nullptr) return;
  PlateRead read = *plate;
  if (!v.voter.Add(read, item.time_ms)) return;
  auto& [best, jpeg] = v.best_by_text[read.text];
  if (!jpeg.empty() && best.confidence >= read.confidence) return;
  // The plate with a margin of half its height, for an operator to check the read.
  const int pad = read.box.height / 2 + 2;
  const cv::Rect plate_region = cv::Rect(read.box.x - pad, read.box.y - pad,
                                         read.box.width + 2 * pad, read.box.height + 2 * pad) &
                                cv::Rect(0, 0, item.crop.cols, item.crop.rows);
  std::vector<uchar> bytes;
  if (plate_region.area() > 0 &&
      cv::imencode(".jpg", item.crop(plate_region), bytes,
                   {cv::IMWRITE_JPEG_QUALITY, options_.crop_jpeg_quality})) {
    jpeg.assign(bytes.begin(), bytes.end());
  }
  read.box.x += item.region.x;  // Into full-frame pixels.
  read.box.y += item.region.y;
  best = std::move(read);
}

void PlateService::FinishIdle(int64_t now_ms) {
  std::vector<TrackKey> idle;
  for (const auto& [key, voting] : voting_) {
    if (now_ms - voting.last_ms > options_.idle_finish_ms) idle.push_back(key);
  }
  for (const TrackKey& key : idle) Finish(key);
}

void PlateService::Finish(const TrackKey& key) {
  auto it = voting_.find(key);
  if (it == voting_.end()) return;
  Voting voting = std::move(it->second);
  voting_.erase(it);
  const std::optional<PlateVote> vote = voting.voter.Result();
  if (!vote) return;
  const auto best = voting.best_by_text.find(vote->text);
  if (best == voting.best_by_text.end()) return;
  const PlateRead& read = best->second.first;
  const float confidence = vote->confidence * vote->best_read_confidence;
  if (confidence < options_.min_read_confidence) return;

  StoredRead stored;
  stored.camera = key.camera;
  stored.time_ms = vote->best_read_timestamp_ms;
  stored.plate = vote->text;
  stored.confidence = confidence;
  stored.candidates = read.candidates;
  stored.label = voting.label;
  stored.track_id = key.track_id;
  stored.frames = vote->reads;
  stored.box = BoxF{static_cast<float>(read.box.x), static_cast<float>(read.box.y),
                    static_cast<float>(read.box.width), static_cast<float>(read.box.height)};
  stored.crop_jpeg = best->second.second;
  absl::StatusOr<StoredRead> added = store_->AddRead(std::move(stored));
  if (!added.ok()) {
    Error("storing a plate read", added.status());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.reads_stored;
  }
  if (hotlist_ == nullptr) return;
  PlateRead voted = read;
  voted.text = vote->text;
  absl::StatusOr<std::vector<HotlistMatch>> matches = hotlist_->Match(voted);
  if (!matches.ok()) {
    Error("matching the hotlist", matches.status());
    return;
  }
  for (const HotlistMatch& match : *matches) {
    StoredHit hit;
    hit.read = *added;
    hit.read.crop_jpeg = best->second.second;
    hit.entry_id = match.entry.id;
    hit.entry_plate = match.entry.spec.plate;
    hit.entry_label = match.entry.spec.label;
    hit.legal_basis_ref = match.entry.spec.legal_basis_ref;
    hit.distance = match.distance;
    hit.keep_until_ms = match.keep_until_ms;
    absl::StatusOr<StoredHit> stored_hit = store_->AddHit(std::move(hit));
    if (!stored_hit.ok()) {
      Error("storing a hotlist hit", stored_hit.status());
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.hits;
    }
    if (sink_) sink_(*stored_hit);
  }
}

void PlateService::Error(const std::string& what, const absl::Status& status) {
  spdlog::warn("plates: {}: {}", what, std::string(status.message()));
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.errors;
  stats_.last_error = absl::StrCat(what, ": ", status.message());
}

}  // namespace custos::plate
