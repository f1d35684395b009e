// ApiServer's handler for traffic counts (docs/traffic.md "Counts over time"). The route is in
// routes.cc; docs/api.md.
#include <httplib.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/api_server.h"
#include "api/responses.h"
#include "custos/status.h"

namespace custos::api {

using nlohmann::json;

absl::Status ApiServer::HandleTrafficCounts(const httplib::Request& req, httplib::Response& res) {
  if (deps_.events == nullptr) return absl::UnavailableError("this server has no event store");
  EventQuery query;
  CUSTOS_ASSIGN_OR_RETURN(const int64_t bucket_ms, ParseCountWindow(req, query));
  if (req.has_param("line")) {
    constexpr size_t kMaxLineBytes = 128;
    query.zone = req.get_param_value("line");
    if (query.zone.size() > kMaxLineBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("'line' is longer than ", kMaxLineBytes, " bytes"));
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<LineCrossingCount> counts,
                          deps_.events->CountLineCrossings(query, bucket_ms));
  // Vehicles only: the camera's traffic.vehicle_labels (all cameras' without a camera). People
  // crossing the same line are counted by /api/stats/counts, not here.
  std::set<std::string> vehicles;
  for (const config::CameraConfig& camera : deps_.cameras()) {
    if (!query.camera.empty() && camera.id != query.camera) continue;
    const std::vector<std::string> labels =
        camera.traffic ? camera.traffic->vehicle_labels : config::TrafficConfig{}.vehicle_labels;
    vehicles.insert(labels.begin(), labels.end());
  }
  std::erase_if(counts, [&](const LineCrossingCount& c) { return !vehicles.contains(c.label); });

  // One series per (line, direction, label) that occurs, in that order.
  using SeriesKey = std::tuple<std::string, std::string, std::string>;
  std::map<SeriesKey, size_t> index;
  for (const LineCrossingCount& c : counts)
    index.emplace(SeriesKey{c.line, c.direction, c.label}, 0);
  json series = json::array();
  for (auto& [key, i] : index) {
    i = series.size();
    series.push_back(
        {{"line", std::get<0>(key)}, {"direction", std::get<1>(key)}, {"label", std::get<2>(key)}});
  }
  json buckets = json::array();
  size_t next = 0;  // Counts come ordered by bucket start.
  for (int64_t start = query.from_ms; start < query.to_ms; start += bucket_ms) {
    json n = json::array();
    json speed = json::array();
    for (size_t i = 0; i < index.size(); ++i) {
      n.push_back(0);
      speed.push_back(nullptr);
    }
    for (; next < counts.size() && counts[next].start_ms == start; ++next) {
      const LineCrossingCount& c = counts[next];
      const size_t i = index.at({c.line, c.direction, c.label});
      n[i] = c.count;
      // Advisory, like the speeds it averages (docs/traffic.md).
      if (c.with_speed > 0) speed[i] = std::round(c.mean_speed_kmh * 10) / 10;
    }
    buckets.push_back(
        {{"start_ms", start}, {"counts", std::move(n)}, {"mean_speed_kmh", std::move(speed)}});
  }
  WriteJson(res, 200,
            {{"camera", query.camera.empty() ? json(nullptr) : json(query.camera)},
             {"bucket_ms", bucket_ms},
             {"from_ms", query.from_ms},
             {"to_ms", query.to_ms},
             {"speed_advisory", true},
             {"series", std::move(series)},
             {"buckets", std::move(buckets)}});
  return absl::OkStatus();
}

}  // namespace custos::api
