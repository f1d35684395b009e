// ApiServer's handlers for watchlists (proposal with enrolment photos, four-eyes approval,
// rejection, withdrawal) and face matches (the leads to verify, their crops, the operators'
// verdicts). The watchlist module and the policy engine decide and audit; these handlers only
// translate JSON. Enrolment photos are decoded and embedded in memory and never written
// anywhere (DESIGN.md §1.3). docs/api.md, docs/face.md "Watchlists".
#include <httplib.h>

#include <opencv2/core.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/api_server.h"
#include "api/request_json.h"
#include "api/responses.h"
#include "api/strings.h"
#include "custos/status.h"
#include "watchlist/enrolment.h"
#include "watchlist/match_store.h"
#include "watchlist/watchlist_store.h"

namespace custos::api {
namespace {

using nlohmann::json;

json EntryJson(const watchlist::WatchlistEntry& e, int64_t now_ms) {
  return {{"id", e.id},
          {"label", e.label},
          {"category", watchlist::SubjectCategoryName(e.category)},
          {"legal_basis_ref", e.legal_basis_ref},
          {"reason", e.reason},
          // Expiry is computed from the clock, never stored.
          {"status", watchlist::EntryStatusName(watchlist::StatusAt(e, now_ms))},
          {"expires_ms", e.expires_ms},
          {"approval_id", e.approval_id},
          {"proposed_by", e.proposed_by},
          {"proposed_ms", e.proposed_ms},
          {"decided_by", e.decided_by},
          {"decided_ms", e.decided_ms},
          {"decision_reason", e.decision_reason},
          {"withdrawn_by", e.withdrawn_by},
          {"withdrawn_ms", e.withdrawn_ms},
          {"withdraw_reason", e.withdraw_reason},
          {"embeddings", e.embeddings}};
}

json MatchJson(const watchlist::StoredMatch& m) {
  const watchlist::FaceMatch& f = m.match;
  return {{"id", m.id},
          {"entry_id", f.entry_id},
          {"label", f.label},
          {"category", watchlist::SubjectCategoryName(f.category)},
          {"score", f.score},
          {"camera", f.camera},
          {"track_id", f.track_id},
          {"time_ms", f.time_ms},
          {"attempts", f.attempts},
          {"agreeing", f.agreeing},
          {"vote_share", f.vote_share},
          {"status", watchlist::MatchStatusName(m.status)},
          {"decided_by", m.decided_by},
          {"decided_ms", m.decided_ms},
          {"note", m.note},
          {"crop", absl::StrCat("/api/matches/", m.id, "/crop.jpg")}};
}

std::string CategoryNames() {
  std::string out;
  for (watchlist::SubjectCategory c : watchlist::AllSubjectCategories()) {
    if (!out.empty()) out += ", ";
    out += watchlist::SubjectCategoryName(c);
  }
  return out;
}

// Overwrites a buffer that held a photo before it is freed.
void WipeString(std::string& s) {
  std::fill(s.begin(), s.end(), '\0');
  s.clear();
}

// One uploaded photo: base64 (optionally as a data: URL) to bytes.
absl::StatusOr<std::string> PhotoBytes(const json& value, size_t index, size_t max_bytes) {
  if (!value.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("photo ", index + 1, " must be a string: the JPEG or PNG file in base64"));
  }
  std::string_view text = value.get_ref<const std::string&>();
  if (absl::StartsWith(Sv(text), "data:")) {
    const size_t comma = text.find(',');
    if (comma == std::string_view::npos || !absl::EndsWith(Sv(text.substr(0, comma)), ";base64")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "photo ", index + 1, " is a data: URL that is not base64; send the file in base64"));
    }
    text.remove_prefix(comma + 1);
  }
  // Base64 is 4/3 of the bytes: refuse an oversized photo before decoding it.
  if (text.size() / 4 * 3 > max_bytes + 3) {
    return absl::InvalidArgumentError(absl::StrCat("photo ", index + 1, " is larger than ",
                                                   max_bytes >> 20, " MB; send a smaller image"));
  }
  std::string bytes;
  if (!absl::Base64Unescape(Sv(text), &bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("photo ", index + 1,
                     " is not valid base64; send the JPEG or PNG file in "
                     "base64"));
  }
  if (bytes.size() > max_bytes) {
    WipeString(bytes);
    return absl::InvalidArgumentError(absl::StrCat("photo ", index + 1, " is larger than ",
                                                   max_bytes >> 20, " MB; send a smaller image"));
  }
  return bytes;
}

}  // namespace

absl::Status ApiServer::HandleWatchlist(const Route& route, const Caller& caller,
                                        const httplib::Request& req, httplib::Response& res) {
  if (deps_.watchlist == nullptr) {
    return absl::UnavailableError("this server has no watchlist");
  }
  watchlist::WatchlistStore& store = *deps_.watchlist;
  const auth::Principal& actor = caller.principal;
  const int64_t now = deps_.clock->WallMs();
  const std::string id(PathParam(route.path, req.path, "id"));
  switch (route.id) {
    case RouteId::kWatchlist: {
      CUSTOS_ASSIGN_OR_RETURN(std::vector<watchlist::WatchlistEntry> entries, store.List());
      json list = json::array();
      for (const watchlist::WatchlistEntry& e : entries) list.push_back(EntryJson(e, now));
      WriteJson(res, 200, {{"entries", std::move(list)}});
      return absl::OkStatus();
    }
    case RouteId::kProposeWatchlist: {
      const json model = {{"label", ""},  {"category", ""},  {"legal_basis_ref", ""},
                          {"reason", ""}, {"expires_ms", 0}, {"photos", json::array()}};
      CUSTOS_ASSIGN_OR_RETURN(json body, ParseRecord(req, model, {}, "the watchlist proposal"));
      watchlist::ProposalSpec spec;
      CUSTOS_ASSIGN_OR_RETURN(spec.label, RequiredString(body, "label", "the proposal"));
      CUSTOS_ASSIGN_OR_RETURN(std::string category,
                              RequiredString(body, "category", "the proposal"));
      std::optional<watchlist::SubjectCategory> parsed =
          watchlist::SubjectCategoryFromName(category);
      if (!parsed) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown category '", category, "'; use one of ", CategoryNames()));
      }
      spec.category = *parsed;
      CUSTOS_ASSIGN_OR_RETURN(spec.legal_basis_ref,
                              RequiredString(body, "legal_basis_ref", "the proposal"));
      CUSTOS_ASSIGN_OR_RETURN(spec.reason, RequiredString(body, "reason", "the proposal"));
      if (!body["expires_ms"].is_number_integer() || body["expires_ms"].get<int64_t>() < 0) {
        return absl::InvalidArgumentError(
            "'expires_ms' must be a UTC time in ms (an integer), or 0 / absent for the default "
            "(30 days)");
      }
      spec.expires_ms = body["expires_ms"].get<int64_t>();
      const json& photos = body["photos"];
      if (photos.empty() || photos.size() > static_cast<size_t>(options_.max_photos)) {
        return absl::InvalidArgumentError(
            absl::StrCat("give 1 to ", options_.max_photos,
                         " photos of the person's face in 'photos' (JPEG or PNG, base64, each at "
                         "most ",
                         options_.max_photo_bytes >> 20, " MB)"));
      }
      if (deps_.faces == nullptr) {
        return absl::UnavailableError(
            absl::StrCat("enrolment needs the face models, which this server has not loaded",
                         deps_.faces_unavailable.empty() ? "" : ": ", deps_.faces_unavailable));
      }
      // Decoded in memory, embedded, overwritten: no photo is ever written anywhere.
      std::vector<cv::Mat> images;
      auto wipe = [&images] {
        for (cv::Mat& image : images) {
          if (!image.empty()) image.setTo(cv::Scalar::all(0));
          image.release();
        }
      };
      for (size_t i = 0; i < photos.size(); ++i) {
        absl::StatusOr<std::string> bytes = PhotoBytes(photos[i], i, options_.max_photo_bytes);
        if (!bytes.ok()) {
          wipe();
          return bytes.status();
        }
        absl::StatusOr<cv::Mat> image = watchlist::DecodePhoto(*bytes, options_.max_photo_bytes);
        WipeString(*bytes);
        if (!image.ok()) {
          wipe();
          return absl::InvalidArgumentError(
              absl::StrCat("photo ", i + 1, ": ", image.status().message()));
        }
        images.push_back(*std::move(image));
      }
      absl::StatusOr<std::vector<face::Embedding>> embeddings =
          watchlist::EmbedEnrolmentPhotos(*deps_.faces, images);
      wipe();
      if (!embeddings.ok()) return embeddings.status();
      absl::StatusOr<watchlist::WatchlistEntry> entry = store.Propose(actor, spec, *embeddings);
      for (face::Embedding& e : *embeddings) std::fill(e.begin(), e.end(), 0.0f);
      if (!entry.ok()) return entry.status();
      WriteJson(res, 201, EntryJson(*entry, now));
      return absl::OkStatus();
    }
    case RouteId::kApproveWatchlist: {
      CUSTOS_ASSIGN_OR_RETURN(watchlist::WatchlistEntry entry, store.Approve(actor, id));
      WriteJson(res, 200, EntryJson(entry, now));
      return absl::OkStatus();
    }
    case RouteId::kRejectWatchlist: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the rejection"));
      CUSTOS_ASSIGN_OR_RETURN(watchlist::WatchlistEntry entry, store.Reject(actor, id, reason));
      WriteJson(res, 200, EntryJson(entry, now));
      return absl::OkStatus();
    }
    case RouteId::kWithdrawWatchlist: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the withdrawal"));
      CUSTOS_ASSIGN_OR_RETURN(watchlist::WatchlistEntry entry, store.Withdraw(actor, id, reason));
      WriteJson(res, 200, EntryJson(entry, now));
      return absl::OkStatus();
    }
    default:
      break;
  }
  return absl::InternalError("not a watchlist route");
}

absl::Status ApiServer::HandleMatches(const Route& route, const Caller& caller,
                                      const httplib::Request& req, httplib::Response& res) {
  if (deps_.matches == nullptr) {
    return absl::UnavailableError("this server has no face matches (no watchlist)");
  }
  watchlist::MatchStore& matches = *deps_.matches;
  const std::string id(PathParam(route.path, req.path, "id"));
  switch (route.id) {
    case RouteId::kMatches: {
      watchlist::MatchFilter filter;
      if (req.has_param("status")) {
        const std::string status = req.get_param_value("status");
        filter.status = watchlist::MatchStatusFromName(status);
        if (!filter.status) {
          return absl::InvalidArgumentError(
              absl::StrCat("'status' must be lead, confirmed or rejected, not '", status, "'"));
        }
      }
      if (req.has_param("camera")) {
        filter.camera = req.get_param_value("camera");
        CUSTOS_RETURN_IF_ERROR(CheckCamera(filter.camera));
      }
      if (req.has_param("limit") &&
          (!absl::SimpleAtoi(req.get_param_value("limit"), &filter.limit) || filter.limit < 1 ||
           filter.limit > options_.max_page_matches)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'limit' must be an integer from 1 to ", options_.max_page_matches));
      }
      CUSTOS_ASSIGN_OR_RETURN(std::vector<watchlist::StoredMatch> list, matches.List(filter));
      json out = json::array();
      for (const watchlist::StoredMatch& m : list) out.push_back(MatchJson(m));
      WriteJson(res, 200, {{"matches", std::move(out)}});
      return absl::OkStatus();
    }
    case RouteId::kMatchCrop: {
      CUSTOS_ASSIGN_OR_RETURN(watchlist::StoredMatch match, matches.Get(id));
      res.status = 200;
      res.set_content(std::move(match.match.crop_jpeg), "image/jpeg");
      return absl::OkStatus();
    }
    case RouteId::kConfirmMatch: {
      CUSTOS_ASSIGN_OR_RETURN(json body, ParseRecord(req, {{"note", ""}}, {}, "the confirmation"));
      CUSTOS_ASSIGN_OR_RETURN(
          watchlist::StoredMatch match,
          matches.Confirm(caller.principal, id, body["note"].get<std::string>()));
      WriteJson(res, 200, MatchJson(match));
      return absl::OkStatus();
    }
    case RouteId::kRejectMatch: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the rejection"));
      CUSTOS_ASSIGN_OR_RETURN(watchlist::StoredMatch match,
                              matches.Reject(caller.principal, id, reason));
      WriteJson(res, 200, MatchJson(match));
      return absl::OkStatus();
    }
    default:
      break;
  }
  return absl::InternalError("not a face-match route");
}

}  // namespace custos::api
