#include "config/config.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "custos/status.h"
#include "traffic/calibration.h"
#include "yaml-cpp/anchor.h"
#include "yaml-cpp/depthguard.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace custos::config {
namespace {

using YAML::Node;
using YAML::NodeType;

// Stop after this many problems: later ones are usually consequences of earlier ones.
constexpr int kMaxErrors = 20;
// Bounds the work of one parse. Aliases let a small file reference the same large node many
// times; the walk below visits every reference, so count what it visits.
constexpr int64_t kMaxVisits = 1'000'000;

constexpr int kMaxNameLength = 64;

const char* TypeName(const Node& node) {
  switch (node.Type()) {
    case NodeType::Null:
      return "an empty value (null)";
    case NodeType::Scalar:
      return "a scalar";
    case NodeType::Sequence:
      return "a list";
    case NodeType::Map:
      return "a mapping";
    case NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Plain (unquoted) scalars carry the non-specific tag "?"; quoted ones "!".
bool IsQuoted(const Node& node) { return node.Tag() == "!"; }

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Quote(absl::string_view s) {
  constexpr size_t kMaxShown = 60;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

std::string Child(const std::string& path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string Index(const std::string& path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

std::string Where(const std::string& path) { return path.empty() ? "the top level" : path; }

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool IsNameChar(char c) { return IsIdChar(c) || (c >= 'A' && c <= 'Z'); }

// Twice the signed area of a polygon (shoelace formula).
double TwiceArea(const Polygon& polygon) {
  double sum = 0;
  for (size_t i = 0; i < polygon.size(); ++i) {
    const PointF& a = polygon[i];
    const PointF& b = polygon[(i + 1) % polygon.size()];
    sum += static_cast<double>(a.x) * b.y - static_cast<double>(b.x) * a.y;
  }
  return sum;
}

// A key/value pair of a mapping, with the key's text.
struct Entry {
  std::string key;
  Node key_node;
  Node value;
};

// The entries of one mapping, after unknown and duplicate keys have been reported.
struct Fields {
  std::string path;
  Node node;
  std::vector<Entry> entries;

  const Entry* Find(absl::string_view key) const {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
};

// A label use to check against detector.labels once the whole file is read.
struct LabelUse {
  YAML::Mark mark;
  std::string path;
  std::string label;
};

// Sees the parser's events only to count documents.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;
};

class Parser {
 public:
  Parser(absl::string_view source, const ParseOptions& options)
      : source_(source), options_(options) {}

  absl::StatusOr<Config> Parse(absl::string_view text) {
    Config config;
    try {
      const std::string input(text);
      if (CheckSingleDocument(input)) {
        const Node root = YAML::Load(input);
        if (root.IsNull()) {
          AddError(YAML::Mark::null_mark(),
                   "the configuration is empty; it needs at least a 'cameras' list "
                   "(see docs/config.md)");
        } else {
          ParseRoot(root, config);
        }
      }
    } catch (const YAML::DeepRecursion& e) {
      AddError(e.mark,
               "invalid YAML: lists and mappings are nested too deeply (a "
               "configuration needs fewer than 10 levels)");
    } catch (const YAML::Exception& e) {
      // Parse errors carry the position of the offending character.
      AddError(e.mark, absl::StrCat("invalid YAML: ", e.msg));
    } catch (const std::exception& e) {
      AddError(YAML::Mark::null_mark(), absl::StrCat("cannot read the configuration: ", e.what()));
    } catch (...) {
      AddError(YAML::Mark::null_mark(), "cannot read the configuration: unknown error");
    }
    if (!errors_.empty() || too_large_) {
      // In file order, whatever order the sections were checked in.
      std::stable_sort(errors_.begin(), errors_.end(), [](const Problem& a, const Problem& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
      });
      std::vector<std::string> lines;
      if (too_large_) {
        // First, and never suppressed: the other messages may be incomplete because of it.
        lines.push_back(absl::StrCat(source_, ": the configuration is too large (more than ",
                                     kMaxVisits,
                                     " values, counting every use of an alias); "
                                     "simplify it"));
      }
      for (const Problem& p : errors_) lines.push_back(p.message);
      if (suppressed_ > 0) {
        lines.push_back(absl::StrCat(source_, ": ... and ", suppressed_, " more problems"));
      }
      return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
    }
    return config;
  }

 private:
  void AddError(const YAML::Mark& mark, absl::string_view message) {
    if (static_cast<int>(errors_.size()) >= kMaxErrors) {
      ++suppressed_;
      return;
    }
    if (mark.is_null() || mark.line < 0) {
      errors_.push_back({-1, -1, absl::StrCat(source_, ": ", message)});
    } else {
      errors_.push_back(
          {mark.line, mark.column,
           absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1, ": ", message)});
    }
  }
  void Error(const Node& at, absl::string_view message) { AddError(at.Mark(), message); }

  // True when `input` holds at most one YAML document; reports the problem otherwise. Not
  // YAML::LoadAll: in yaml-cpp 0.7 it loops forever, allocating, on input such as a lone ','
  // (yaml-cpp issue #1040, fixed upstream in PR #1319). Reading at most two documents here
  // is bounded. Throws YAML::Exception on malformed input, like YAML::Load.
  bool CheckSingleDocument(const std::string& input) {
    std::istringstream stream(input);
    YAML::Parser parser(stream);
    DocumentCounter counter;
    // A third document is read only to tell a stray token (no progress: the same start
    // twice in a row) from a genuine second document.
    for (int i = 0; i < 3 && parser.HandleNextDocument(counter); ++i) {
    }
    const std::vector<YAML::Mark>& starts = counter.starts;
    if (starts.size() <= 1) return true;
    for (size_t i = 1; i < starts.size(); ++i) {
      if (starts[i].pos == starts[i - 1].pos) {
        const auto pos = static_cast<size_t>(starts[i].pos);
        const char c = pos < input.size() ? input[pos] : ' ';
        AddError(starts[i],
                 absl::StrCat("invalid YAML: unexpected ", Quote(absl::string_view(&c, 1))));
        return false;
      }
    }
    AddError(starts[1],
             "found more than one YAML document (separated by '---'); put the whole "
             "configuration in one document");
    return false;
  }

  // Counts a visited node; false once the budget is spent (reported once).
  bool Visit() {
    if (++visits_ <= kMaxVisits) return true;
    too_large_ = true;
    return false;
  }

  // --- Typed readers. Each reports its own error and returns nullopt on a bad value. ---

  std::optional<Fields> ReadFields(const Node& node, const std::string& path,
                                   const std::vector<absl::string_view>& known,
                                   bool pass_through_unknown = false) {
    if (!Visit()) return std::nullopt;
    if (!node.IsMap()) {
      Error(node,
            absl::StrCat(Where(path), " must be a mapping (key: value), got ", TypeName(node)));
      return std::nullopt;
    }
    Fields fields{path, node, {}};
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!Visit()) return std::nullopt;
      const Node key = it->first;
      if (!key.IsScalar()) {
        Error(key,
              absl::StrCat("keys in ", Where(path), " must be plain names, got ", TypeName(key)));
        continue;
      }
      const std::string& name = key.Scalar();
      if (fields.Find(name) != nullptr) {
        Error(key,
              absl::StrCat("duplicate key ", Quote(name), " in ", Where(path), "; keep only one"));
        continue;
      }
      if (!pass_through_unknown && std::find(known.begin(), known.end(), name) == known.end()) {
        std::string message = absl::StrCat("unknown key ", Quote(name), " in ", Where(path),
                                           " (expected one of: ", absl::StrJoin(known, ", "), ")");
        absl::string_view best;
        size_t best_distance = 3;  // Suggest only close matches.
        for (absl::string_view k : known) {
          const size_t d = EditDistance(name, k);
          if (d < best_distance) {
            best_distance = d;
            best = k;
          }
        }
        if (!best.empty()) absl::StrAppend(&message, "; did you mean '", best, "'?");
        Error(key, message);
        continue;
      }
      fields.entries.push_back({name, key, it->second});
    }
    return fields;
  }

  const Entry* Required(const Fields& fields, absl::string_view key) {
    const Entry* entry = fields.Find(key);
    if (entry == nullptr) {
      Error(fields.node,
            absl::StrCat(Where(fields.path), " is missing the required key '", key, "'"));
    }
    return entry;
  }

  std::optional<std::string> ReadString(const Node& node, const std::string& path) {
    if (!Visit()) return std::nullopt;
    if (!node.IsScalar()) {
      Error(node, absl::StrCat(path, " must be a string, got ", TypeName(node)));
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::string> ReadNonEmptyString(const Node& node, const std::string& path) {
    std::optional<std::string> s = ReadString(node, path);
    if (s && absl::StripAsciiWhitespace(*s).empty()) {
      Error(node, absl::StrCat(path, " must not be empty"));
      return std::nullopt;
    }
    return s;
  }

  bool CheckNumberScalar(const Node& node, const std::string& path, absl::string_view what) {
    if (!Visit()) return false;
    if (!node.IsScalar()) {
      Error(node, absl::StrCat(path, " must be ", what, ", got ", TypeName(node)));
      return false;
    }
    if (IsQuoted(node)) {
      Error(node, absl::StrCat(path, " must be ", what, ", got the quoted string ",
                               Quote(node.Scalar()), " (remove the quotes)"));
      return false;
    }
    return true;
  }

  // A finite number in [min, max]; `min_exclusive` makes the lower bound open.
  std::optional<double> ReadNumber(const Node& node, const std::string& path, double min,
                                   double max, bool min_exclusive = false) {
    if (!CheckNumberScalar(node, path, "a number")) return std::nullopt;
    double value = 0;
    if (!absl::SimpleAtod(node.Scalar(), &value) || !std::isfinite(value)) {
      Error(node, absl::StrCat(path, " must be a number, got ", Quote(node.Scalar())));
      return std::nullopt;
    }
    if (value < min || value > max || (min_exclusive && value == min)) {
      Error(node, absl::StrCat(
                      path, " must be ", min_exclusive ? "greater than " : "at least ", min,
                      max < std::numeric_limits<double>::max() ? absl::StrCat(" and at most ", max)
                                                               : std::string(),
                      ", got ", node.Scalar()));
      return std::nullopt;
    }
    return value;
  }

  std::optional<int64_t> ReadInt(const Node& node, const std::string& path, int64_t min,
                                 int64_t max) {
    if (!CheckNumberScalar(node, path, "a whole number")) return std::nullopt;
    int64_t value = 0;
    if (!absl::SimpleAtoi(node.Scalar(), &value)) {
      double d = 0;
      if (absl::SimpleAtod(node.Scalar(), &d) && std::isfinite(d) && std::trunc(d) == d &&
          std::abs(d) < 1e18) {
        value = static_cast<int64_t>(d);  // "5.0" or "1e3" is still a whole number.
      } else {
        Error(node, absl::StrCat(path, " must be a whole number between ", min, " and ", max,
                                 ", got ", Quote(node.Scalar())));
        return std::nullopt;
      }
    }
    if (value < min || value > max) {
      Error(node,
            absl::StrCat(path, " must be between ", min, " and ", max, ", got ", node.Scalar()));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> ReadBool(const Node& node, const std::string& path) {
    if (!CheckNumberScalar(node, path, "true or false")) return std::nullopt;
    const std::string s = absl::AsciiStrToLower(node.Scalar());
    if (s == "true") return true;
    if (s == "false") return false;
    Error(node, absl::StrCat(path, " must be true or false, got ", Quote(node.Scalar())));
    return std::nullopt;
  }

  // Iterates a list, calling fn(item, item_path, index). False if `node` is not a list.
  template <typename Fn>
  bool ForEachItem(const Node& node, const std::string& path, Fn fn) {
    if (!Visit()) return false;
    if (!node.IsSequence()) {
      Error(node, absl::StrCat(path, " must be a list, got ", TypeName(node)));
      return false;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      if (!Visit()) return false;
      fn(node[i], Index(path, i), i);
    }
    return true;
  }

  // Whether `node` is a list of two values, [x, y]; reports it otherwise (`what` says of what).
  bool CheckPair(const Node& node, const std::string& path, absl::string_view what) {
    if (!Visit()) return false;
    if (!node.IsSequence() || node.size() != 2) {
      Error(node, absl::StrCat(path, " must be a point [x, y] ", what, ", got ",
                               node.IsSequence() ? absl::StrCat("a list of ", node.size())
                                                 : std::string(TypeName(node))));
      return false;
    }
    return true;
  }

  std::optional<PointF> ReadPoint(const Node& node, const std::string& path) {
    if (!CheckPair(node, path, "of two numbers in [0, 1]")) return std::nullopt;
    std::optional<double> x = ReadCoordinate(node[0], path, "x");
    std::optional<double> y = ReadCoordinate(node[1], path, "y");
    if (!x || !y) return std::nullopt;
    return PointF{static_cast<float>(*x), static_cast<float>(*y)};
  }

  std::optional<double> ReadCoordinate(const Node& node, const std::string& path,
                                       absl::string_view axis) {
    const std::string item = absl::StrCat(path, ".", axis);
    if (!CheckNumberScalar(node, item, "a number")) return std::nullopt;
    double v = 0;
    if (!absl::SimpleAtod(node.Scalar(), &v) || !std::isfinite(v)) {
      Error(node, absl::StrCat(item, " must be a number, got ", Quote(node.Scalar())));
      return std::nullopt;
    }
    if (v < 0 || v > 1) {
      Error(node, absl::StrCat(path, ": ", axis, " = ", node.Scalar(),
                               " is outside [0, 1]; coordinates are fractions of the detect "
                               "frame's width and height, (0, 0) top-left"));
      return std::nullopt;
    }
    return v;
  }

  std::optional<Polygon> ReadPolygon(const Node& node, const std::string& path) {
    Polygon polygon;
    bool ok = true;
    if (!ForEachItem(node, path, [&](const Node& item, const std::string& item_path, size_t) {
          std::optional<PointF> p = ReadPoint(item, item_path);
          if (p) {
            polygon.push_back(*p);
          } else {
            ok = false;
          }
        })) {
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
    if (polygon.size() < 3) {
      Error(node, absl::StrCat(path, " must have at least 3 points, got ", polygon.size()));
      return std::nullopt;
    }
    if (std::abs(TwiceArea(polygon)) < 1e-9) {
      Error(node, absl::StrCat(path, " has no area (its points lie on one line)"));
      return std::nullopt;
    }
    return polygon;
  }

  std::optional<std::vector<std::string>> ReadLabels(const Node& node, const std::string& path,
                                                     bool check_known) {
    std::vector<std::string> labels;
    bool ok = true;
    if (!ForEachItem(node, path, [&](const Node& item, const std::string& item_path, size_t) {
          std::optional<std::string> label = ReadNonEmptyString(item, item_path);
          if (!label) {
            ok = false;
            return;
          }
          if (std::find(labels.begin(), labels.end(), *label) != labels.end()) {
            Error(item, absl::StrCat(item_path, ": label ", Quote(*label), " is listed twice"));
            ok = false;
            return;
          }
          if (check_known) label_uses_.push_back({item.Mark(), item_path, *label});
          labels.push_back(*label);
        })) {
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
    if (labels.empty()) {
      Error(node, absl::StrCat(path,
                               " is an empty list; leave the key out to match every "
                               "label"));
      return std::nullopt;
    }
    return labels;
  }

  // Zone, line and camera names must be unique within their scope.
  bool CheckName(const Node& node, const std::string& path, const std::string& name,
                 bool lower_case_only) {
    const bool chars_ok =
        std::all_of(name.begin(), name.end(), lower_case_only ? IsIdChar : IsNameChar);
    if (name.empty() || name.size() > kMaxNameLength || !chars_ok) {
      Error(node, absl::StrCat(path, " ", Quote(name), " must be 1 to ", kMaxNameLength,
                               lower_case_only ? " characters of a-z, 0-9, '_' and '-'"
                                               : " characters of a-z, A-Z, 0-9, '_' and '-'"));
      return false;
    }
    return true;
  }

  // --- Sections. ---

  void ParseRoot(const Node& root, Config& config) {
    std::optional<Fields> fields = ReadFields(root, "",
                                              {"cameras", "detector", "motion", "tracker", "store",
                                               "retention", "server", "privacy", "plates"});
    if (!fields) return;
    // The detector first: zones and lines are checked against its labels.
    if (const Entry* e = fields->Find("detector")) ParseDetector(e->value, config.detector);
    if (const Entry* e = Required(*fields, "cameras")) ParseCameras(e->value, config.cameras);
    if (const Entry* e = fields->Find("motion")) ParseMotion(e->value, config.motion);
    if (const Entry* e = fields->Find("tracker")) ParseTracker(e->value, config.tracker);
    if (const Entry* e = fields->Find("store")) ParseStore(e->value, config.store);
    if (const Entry* e = fields->Find("retention")) ParseRetention(e->value, config.retention);
    if (const Entry* e = fields->Find("server")) ParseServer(e->value, config.server);
    if (const Entry* e = fields->Find("privacy")) ParsePrivacy(e->value, config.privacy);
    if (const Entry* e = fields->Find("plates")) ParsePlates(e->value, config.plates);
    if (detector_labels_ok_) {
      for (const LabelUse& use : label_uses_) {
        const auto& known = config.detector.labels;
        if (std::find(known.begin(), known.end(), use.label) == known.end()) {
          AddError(use.mark, absl::StrCat(use.path, ": unknown label ", Quote(use.label),
                                          "; detector.labels has: ", absl::StrJoin(known, ", ")));
        }
      }
    }
  }

  void ParseDetector(const Node& node, DetectorConfig& out) {
    const std::string path = "detector";
    std::optional<Fields> f =
        ReadFields(node, path, {"model", "score_threshold", "labels", "min_score"});
    if (!f) {
      detector_labels_ok_ = false;
      return;
    }
    if (const Entry* e = f->Find("model")) {
      if (auto v = ReadNonEmptyString(e->value, Child(path, "model"))) {
        out.model = *v;
        if (!options_.models.empty() && options_.models.count(out.model) == 0) {
          std::vector<std::string> names;
          for (const auto& [name, labels] : options_.models) names.push_back(name);
          Error(e->value, absl::StrCat("detector.model ", Quote(out.model),
                                       " is not in models/manifest.yaml (known: ",
                                       absl::StrJoin(names, ", "), ")"));
        }
      }
    }
    if (const Entry* e = f->Find("score_threshold")) {
      if (auto v = ReadNumber(e->value, Child(path, "score_threshold"), 0, 1)) {
        out.score_threshold = *v;
      }
    }
    Node labels_node = f->node;
    if (const Entry* e = f->Find("labels")) {
      labels_node = e->value;
      if (auto v = ReadLabels(e->value, Child(path, "labels"), /*check_known=*/false)) {
        out.labels = *v;
      } else {
        detector_labels_ok_ = false;
      }
    }
    if (detector_labels_ok_ && !options_.models.empty()) {
      auto model = options_.models.find(out.model);
      if (model != options_.models.end()) {
        for (const std::string& label : out.labels) {
          if (std::find(model->second.begin(), model->second.end(), label) == model->second.end()) {
            Error(labels_node, absl::StrCat("detector.labels: model ", Quote(out.model),
                                            " does not detect ", Quote(label),
                                            " (it has: ", absl::StrJoin(model->second, ", "), ")"));
          }
        }
      }
    }
    if (const Entry* e = f->Find("min_score")) {
      const std::string ms_path = Child(path, "min_score");
      if (auto ms = ReadFields(e->value, ms_path, {}, /*pass_through_unknown=*/true)) {
        for (const Entry& item : ms->entries) {
          if (auto v = ReadNumber(item.value, Child(ms_path, item.key), 0, 1)) {
            out.min_score[item.key] = *v;
            label_uses_.push_back({item.key_node.Mark(), ms_path, item.key});
          }
        }
      }
    }
  }

  void ParseCameras(const Node& node, std::vector<CameraConfig>& out) {
    const std::string path = "cameras";
    std::map<std::string, int> seen;
    const bool is_list =
        ForEachItem(node, path, [&](const Node& item, const std::string& item_path, size_t i) {
          CameraConfig camera;
          if (ParseCamera(item, item_path, camera)) {
            auto [it, inserted] = seen.emplace(camera.id, static_cast<int>(i));
            if (!inserted) {
              Error(item, absl::StrCat(item_path, ": camera id ", Quote(camera.id),
                                       " is already used by cameras[", it->second,
                                       "]; ids must be unique"));
            }
            out.push_back(std::move(camera));
          }
        });
    if (is_list && node.size() == 0) {
      Error(node, "cameras is empty; configure at least one camera");
    }
  }

  bool ParseCamera(const Node& node, const std::string& path, CameraConfig& camera) {
    std::optional<Fields> f = ReadFields(
        node, path,
        {"id", "name", "url", "rtsp_transport", "enabled", "detect", "location", "motion_masks",
         "zones", "lines", "record", "retention", "purpose", "traffic", "read_plates"});
    if (!f) return false;
    const size_t errors_before = errors_.size() + static_cast<size_t>(suppressed_);
    if (const Entry* e = Required(*f, "id")) {
      if (auto v = ReadString(e->value, Child(path, "id"))) {
        if (CheckName(e->value, Child(path, "id"), *v, /*lower_case_only=*/true)) camera.id = *v;
      }
    }
    if (const Entry* e = f->Find("name")) {
      if (auto v = ReadNonEmptyString(e->value, Child(path, "name"))) camera.name = *v;
    }
    if (camera.name.empty()) camera.name = camera.id;
    if (const Entry* e = Required(*f, "url")) {
      if (auto v = ReadNonEmptyString(e->value, Child(path, "url"))) camera.url = *v;
    }
    if (const Entry* e = f->Find("rtsp_transport")) {
      if (auto v = ReadString(e->value, Child(path, "rtsp_transport"))) {
        if (*v == "tcp") {
          camera.rtsp_transport = RtspTransport::kTcp;
        } else if (*v == "udp") {
          camera.rtsp_transport = RtspTransport::kUdp;
        } else {
          Error(e->value, absl::StrCat(Child(path, "rtsp_transport"),
                                       " must be 'tcp' or 'udp', got ", Quote(*v)));
        }
      }
    }
    if (const Entry* e = f->Find("enabled")) {
      if (auto v = ReadBool(e->value, Child(path, "enabled"))) camera.enabled = *v;
    }
    if (const Entry* e = f->Find("detect")) {
      ParseDetect(e->value, Child(path, "detect"), camera.detect);
    }
    if (const Entry* e = f->Find("location")) {
      camera.location = ReadLocation(e->value, Child(path, "location"));
    }
    if (const Entry* e = f->Find("record")) {
      ParseRecord(e->value, Child(path, "record"), camera.record);
    }
    if (const Entry* e = f->Find("retention")) {
      const std::string rpath = Child(path, "retention");
      if (auto rf = ReadFields(e->value, rpath, {"video_hours", "events_days", "snapshots_days"})) {
        ReadRetentionAges(*rf, camera.retention.video_hours, camera.retention.events_days,
                          camera.retention.snapshots_days);
      }
    }
    if (const Entry* e = f->Find("purpose")) {
      if (auto v = ReadNonEmptyString(e->value, Child(path, "purpose"))) camera.purpose = *v;
    }
    if (const Entry* e = f->Find("read_plates")) {
      if (auto v = ReadBool(e->value, Child(path, "read_plates"))) camera.read_plates = *v;
    }
    if (const Entry* e = f->Find("motion_masks")) {
      ForEachItem(e->value, Child(path, "motion_masks"),
                  [&](const Node& item, const std::string& item_path, size_t) {
                    if (auto polygon = ReadPolygon(item, item_path)) {
                      camera.motion_masks.push_back(std::move(*polygon));
                    }
                  });
    }
    // Zone and line names share one namespace: events carry either in Event::zone.
    std::map<std::string, std::string> names;
    auto claim = [&](const Node& at, const std::string& at_path, const std::string& name) {
      auto [it, inserted] = names.emplace(name, at_path);
      if (!inserted) {
        Error(at, absl::StrCat(at_path, ": name ", Quote(name), " is already used by ", it->second,
                               "; zone and line names must be unique per camera"));
      }
    };
    if (const Entry* e = f->Find("zones")) {
      ForEachItem(e->value, Child(path, "zones"),
                  [&](const Node& item, const std::string& item_path, size_t) {
                    ZoneConfig zone;
                    if (ParseZone(item, item_path, zone)) {
                      claim(item, item_path, zone.name);
                      camera.zones.push_back(std::move(zone));
                    }
                  });
    }
    if (const Entry* e = f->Find("lines")) {
      ForEachItem(e->value, Child(path, "lines"),
                  [&](const Node& item, const std::string& item_path, size_t) {
                    LineConfig line;
                    if (ParseLine(item, item_path, line)) {
                      claim(item, item_path, line.name);
                      camera.lines.push_back(std::move(line));
                    }
                  });
    }
    if (const Entry* e = f->Find("traffic")) {
      TrafficConfig traffic;
      ParseTraffic(e->value, Child(path, "traffic"), traffic, claim);
      camera.traffic = std::move(traffic);
    }
    return errors_.size() + static_cast<size_t>(suppressed_) == errors_before;
  }

  void ParseDetect(const Node& node, const std::string& path, DetectConfig& out) {
    std::optional<Fields> f = ReadFields(node, path, {"fps", "width", "height"});
    if (!f) return;
    if (const Entry* e = f->Find("fps")) {
      if (auto v = ReadNumber(e->value, Child(path, "fps"), 0, 1000, /*min_exclusive=*/true)) {
        out.fps = *v;
      }
    }
    constexpr int64_t kMaxSide = 8192;
    bool sizes_ok = true;
    if (const Entry* e = f->Find("width")) {
      if (auto v = ReadInt(e->value, Child(path, "width"), 0, kMaxSide)) {
        out.width = static_cast<int>(*v);
      } else {
        sizes_ok = false;
      }
    }
    if (const Entry* e = f->Find("height")) {
      if (auto v = ReadInt(e->value, Child(path, "height"), 0, kMaxSide)) {
        out.height = static_cast<int>(*v);
      } else {
        sizes_ok = false;
      }
    }
    if (sizes_ok && out.width == 0 && out.height == 0) {
      Error(node, absl::StrCat(path,
                               ": width and height are both 0; set at least one (the "
                               "other then follows the camera's aspect ratio)"));
    }
  }

  bool ParseZone(const Node& node, const std::string& path, ZoneConfig& zone) {
    std::optional<Fields> f =
        ReadFields(node, path, {"name", "polygon", "labels", "loiter_s", "min_frames"});
    if (!f) return false;
    bool ok = true;
    if (const Entry* e = Required(*f, "name")) {
      auto v = ReadString(e->value, Child(path, "name"));
      if (v && CheckName(e->value, Child(path, "name"), *v, false)) {
        zone.name = *v;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (const Entry* e = Required(*f, "polygon")) {
      if (auto v = ReadPolygon(e->value, Child(path, "polygon"))) {
        zone.polygon = std::move(*v);
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (const Entry* e = f->Find("labels")) {
      if (auto v = ReadLabels(e->value, Child(path, "labels"), true)) {
        zone.labels = std::move(*v);
      } else {
        ok = false;
      }
    }
    if (const Entry* e = f->Find("loiter_s")) {
      // Up to a week: longer is surely a typo (and keeps loiter_s * 1000 in range).
      if (auto v = ReadNumber(e->value, Child(path, "loiter_s"), 0, 7 * 24 * 3600)) {
        zone.loiter_s = *v;
      } else {
        ok = false;
      }
    }
    if (const Entry* e = f->Find("min_frames")) {
      if (auto v = ReadInt(e->value, Child(path, "min_frames"), 1, 1000)) {
        zone.min_frames = static_cast<int>(*v);
      } else {
        ok = false;
      }
    }
    return ok;
  }

  // Exactly two different points [[x0, y0], [x1, y1]]; `what` ("a line") for the message.
  std::optional<std::pair<PointF, PointF>> ReadSegment(const Node& node, const std::string& path,
                                                       absl::string_view what) {
    std::vector<PointF> points;
    bool ok = true;
    const bool is_list =
        ForEachItem(node, path, [&](const Node& item, const std::string& item_path, size_t) {
          if (auto p = ReadPoint(item, item_path)) {
            points.push_back(*p);
          } else {
            ok = false;
          }
        });
    if (!is_list || !ok) return std::nullopt;
    if (points.size() != 2) {
      Error(node, absl::StrCat(path, " must have exactly 2 points [[x0, y0], [x1, y1]], got ",
                               points.size()));
      return std::nullopt;
    }
    if (points[0].x == points[1].x && points[0].y == points[1].y) {
      Error(node, absl::StrCat(path, ": the two points are the same; ", what,
                               " needs two different points"));
      return std::nullopt;
    }
    return std::make_pair(points[0], points[1]);
  }

  bool ParseLine(const Node& node, const std::string& path, LineConfig& line) {
    std::optional<Fields> f = ReadFields(node, path, {"name", "points", "labels", "directions"});
    if (!f) return false;
    bool ok = true;
    if (const Entry* e = Required(*f, "name")) {
      auto v = ReadString(e->value, Child(path, "name"));
      if (v && CheckName(e->value, Child(path, "name"), *v, false)) {
        line.name = *v;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (const Entry* e = Required(*f, "points")) {
      if (auto segment = ReadSegment(e->value, Child(path, "points"), "a line")) {
        std::tie(line.from, line.to) = *segment;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (const Entry* e = f->Find("labels")) {
      if (auto v = ReadLabels(e->value, Child(path, "labels"), true)) {
        line.labels = std::move(*v);
      } else {
        ok = false;
      }
    }
    if (const Entry* e = f->Find("directions")) {
      const std::string dpath = Child(path, "directions");
      if (auto d = ReadFields(e->value, dpath, {"left_to_right", "right_to_left"})) {
        for (const Entry& item : d->entries) {
          auto v = ReadNonEmptyString(item.value, Child(dpath, item.key));
          if (v && v->size() > static_cast<size_t>(kMaxNameLength)) {
            Error(item.value, absl::StrCat(Child(dpath, item.key), " is longer than ",
                                           kMaxNameLength, " characters"));
            v.reset();
          }
          if (!v) {
            ok = false;
          } else if (item.key == "left_to_right") {
            line.left_to_right = *v;
          } else {
            line.right_to_left = *v;
          }
        }
      } else {
        ok = false;
      }
    }
    return ok;
  }

  // --- Traffic (docs/traffic.md). ---

  using ClaimName = std::function<void(const Node&, const std::string&, const std::string&)>;

  // A point on the road in metres: [x, y], any finite numbers up to 10 000 km (a national
  // grid's coordinates fit).
  std::optional<PointD> ReadGroundPoint(const Node& node, const std::string& path) {
    if (!CheckPair(node, path, "in metres")) return std::nullopt;
    constexpr double kMaxM = 1e7;
    std::optional<double> x = ReadNumber(node[0], absl::StrCat(path, ".x"), -kMaxM, kMaxM);
    std::optional<double> y = ReadNumber(node[1], absl::StrCat(path, ".y"), -kMaxM, kMaxM);
    if (!x || !y) return std::nullopt;
    return PointD{*x, *y};
  }

  // Exactly four points read by `read`.
  template <typename Point, typename ReadFn>
  std::optional<std::vector<Point>> ReadFourPoints(const Node& node, const std::string& path,
                                                   ReadFn read) {
    std::vector<Point> points;
    bool ok = true;
    const bool is_list =
        ForEachItem(node, path, [&](const Node& item, const std::string& item_path, size_t) {
          if (std::optional<Point> p = (this->*read)(item, item_path)) {
            points.push_back(*p);
          } else {
            ok = false;
          }
        });
    if (!is_list || !ok) return std::nullopt;
    if (points.size() != 4) {
      Error(node, absl::StrCat(path, " must have exactly 4 points, got ", points.size()));
      return std::nullopt;
    }
    return points;
  }

  // The calibration's two sides, and the homography they give (which checks them).
  std::optional<traffic::GroundCalibration> ParseCalibration(const Node& node,
                                                             const std::string& path,
                                                             CalibrationConfig& out) {
    std::optional<Fields> f = ReadFields(node, path, {"image", "ground"});
    if (!f) return std::nullopt;
    const Entry* image = Required(*f, "image");
    const Entry* ground = Required(*f, "ground");
    if (image != nullptr) {
      if (auto v = ReadFourPoints<PointF>(image->value, Child(path, "image"), &Parser::ReadPoint)) {
        out.image = std::move(*v);
      }
    }
    if (ground != nullptr) {
      if (auto v = ReadFourPoints<PointD>(ground->value, Child(path, "ground"),
                                          &Parser::ReadGroundPoint)) {
        out.ground = std::move(*v);
      }
    }
    if (out.image.size() != 4 || out.ground.size() != 4) return std::nullopt;
    absl::StatusOr<traffic::GroundCalibration> calibration =
        traffic::GroundCalibration::Create(out.image, out.ground);
    if (!calibration.ok()) {
      Error(node, absl::StrCat(path, ": ", calibration.status().message()));
      return std::nullopt;
    }
    return *calibration;
  }

  // The name, polygon and labels of a lane or stop zone; labels must be vehicle labels.
  bool ParseTrafficArea(const Fields& f, const std::string& path,
                        const std::vector<std::string>& vehicle_labels, std::string& name,
                        Polygon& polygon, std::vector<std::string>& labels) {
    const size_t errors_before = errors_.size() + static_cast<size_t>(suppressed_);
    if (const Entry* e = Required(f, "name")) {
      auto v = ReadString(e->value, Child(path, "name"));
      if (v && CheckName(e->value, Child(path, "name"), *v, false)) name = *v;
    }
    if (const Entry* e = Required(f, "polygon")) {
      if (auto v = ReadPolygon(e->value, Child(path, "polygon"))) polygon = std::move(*v);
    }
    if (const Entry* e = f.Find("labels")) {
      if (auto v = ReadLabels(e->value, Child(path, "labels"), true)) {
        for (const std::string& label : *v) {
          if (std::find(vehicle_labels.begin(), vehicle_labels.end(), label) ==
              vehicle_labels.end()) {
            Error(e->value, absl::StrCat(Child(path, "labels"), ": ", Quote(label),
                                         " is not in traffic.vehicle_labels (",
                                         absl::StrJoin(vehicle_labels, ", "),
                                         "); traffic analytics follows vehicles only"));
          }
        }
        labels = std::move(*v);
      }
    }
    return errors_.size() + static_cast<size_t>(suppressed_) == errors_before;
  }

  void ParseTraffic(const Node& node, const std::string& path, TrafficConfig& out,
                    const ClaimName& claim) {
    std::optional<Fields> f =
        ReadFields(node, path,
                   {"calibration", "lanes", "stopped", "vehicle_labels", "wrong_way_min_m",
                    "wrong_way_min_frame", "stop_radius_m", "stop_radius_frame"});
    if (!f) return;
    if (const Entry* e = f->Find("vehicle_labels")) {
      if (auto v = ReadLabels(e->value, Child(path, "vehicle_labels"), true)) {
        out.vehicle_labels = std::move(*v);
      }
    }
    const std::pair<const char*, double*> thresholds[] = {
        {"wrong_way_min_m", &out.wrong_way_min_m},
        {"wrong_way_min_frame", &out.wrong_way_min_frame},
        {"stop_radius_m", &out.stop_radius_m},
        {"stop_radius_frame", &out.stop_radius_frame}};
    for (const auto& [key, value] : thresholds) {
      // Metres up to a kilometre; fractions of the frame diagonal up to the whole of it.
      const double max = absl::EndsWith(key, "_m") ? 1000 : 1;
      if (const Entry* e = f->Find(key)) {
        if (auto v = ReadNumber(e->value, Child(path, key), 0, max, /*min_exclusive=*/true)) {
          *value = *v;
        }
      }
    }
    std::optional<traffic::GroundCalibration> calibration;
    if (const Entry* e = f->Find("calibration")) {
      CalibrationConfig c;
      calibration = ParseCalibration(e->value, Child(path, "calibration"), c);
      if (calibration) out.calibration = std::move(c);
    }
    if (const Entry* e = f->Find("lanes")) {
      ParseTrafficList(e->value, Child(path, "lanes"), {"name", "polygon", "direction", "labels"},
                       out.vehicle_labels, claim, out.lanes,
                       [&](const Fields& lf, const std::string& item_path, LaneConfig& lane) {
                         const Entry* d = Required(lf, "direction");
                         if (d == nullptr) return false;
                         const std::string dpath = Child(item_path, "direction");
                         auto segment = ReadSegment(d->value, dpath, "a direction");
                         if (!segment) return false;
                         std::tie(lane.from, lane.to) = *segment;
                         if (calibration && (!calibration->ToGround(lane.from) ||
                                             !calibration->ToGround(lane.to))) {
                           Error(d->value, absl::StrCat(dpath,
                                                        ": a point lies beyond the road's "
                                                        "horizon in the calibration; draw the "
                                                        "direction on the road"));
                           return false;
                         }
                         return true;
                       });
    }
    if (const Entry* e = f->Find("stopped")) {
      ParseTrafficList(
          e->value, Child(path, "stopped"), {"name", "polygon", "after_s", "labels"},
          out.vehicle_labels, claim, out.stopped,
          [&](const Fields& zf, const std::string& item_path, StoppedZoneConfig& zone) {
            const Entry* a = zf.Find("after_s");
            if (a == nullptr) return true;
            // A second to a day.
            auto v = ReadNumber(a->value, Child(item_path, "after_s"), 1, 86400);
            if (v) zone.after_s = *v;
            return v.has_value();
          });
    }
  }

  // A list of lanes or stop zones: each item's `keys`, its name, polygon and labels
  // (ParseTrafficArea), then `rest(fields, item_path, item)` for its other keys. An item
  // without problems claims its name and is kept.
  template <typename Item, typename RestFn>
  void ParseTrafficList(const Node& node, const std::string& path,
                        const std::vector<absl::string_view>& keys,
                        const std::vector<std::string>& vehicle_labels, const ClaimName& claim,
                        std::vector<Item>& out, RestFn rest) {
    ForEachItem(node, path, [&](const Node& item, const std::string& item_path, size_t) {
      std::optional<Fields> f = ReadFields(item, item_path, keys);
      if (!f) return;
      Item parsed;
      const bool area_ok = ParseTrafficArea(*f, item_path, vehicle_labels, parsed.name,
                                            parsed.polygon, parsed.labels);
      if (!rest(*f, item_path, parsed) || !area_ok) return;
      claim(item, item_path, parsed.name);
      out.push_back(std::move(parsed));
    });
  }

  // Reads numeric pass-through keys into `extra`, skipping `typed` keys.
  void ReadExtra(const Fields& f, const std::vector<absl::string_view>& typed,
                 std::map<std::string, double>& extra) {
    for (const Entry& e : f.entries) {
      if (std::find(typed.begin(), typed.end(), e.key) != typed.end()) continue;
      const bool key_ok = !e.key.empty() && e.key.size() <= kMaxNameLength &&
                          std::all_of(e.key.begin(), e.key.end(), IsIdChar);
      if (!key_ok) {
        Error(e.key_node, absl::StrCat("key ", Quote(e.key), " in ", f.path,
                                       " must be 1 to 64 characters of a-z, 0-9, '_' and '-'"));
        continue;
      }
      if (auto v = ReadNumber(e.value, Child(f.path, e.key), -std::numeric_limits<double>::max(),
                              std::numeric_limits<double>::max())) {
        extra[e.key] = *v;
      }
    }
  }

  void ParseMotion(const Node& node, MotionConfig& out) {
    std::optional<Fields> f = ReadFields(node, "motion", {}, /*pass_through_unknown=*/true);
    if (!f) return;
    if (const Entry* e = f->Find("threshold")) {
      if (auto v = ReadNumber(e->value, "motion.threshold", 0, 255)) out.threshold = *v;
    }
    if (const Entry* e = f->Find("min_area")) {
      if (auto v = ReadNumber(e->value, "motion.min_area", 0, 1)) out.min_area = *v;
    }
    ReadExtra(*f, {"threshold", "min_area"}, out.extra);
  }

  void ParseTracker(const Node& node, TrackerConfig& out) {
    std::optional<Fields> f = ReadFields(node, "tracker", {}, /*pass_through_unknown=*/true);
    if (!f) return;
    if (const Entry* e = f->Find("max_lost_ms")) {
      if (auto v = ReadInt(e->value, "tracker.max_lost_ms", 1, 3'600'000)) out.max_lost_ms = *v;
    }
    if (const Entry* e = f->Find("confirm_hits")) {
      if (auto v = ReadInt(e->value, "tracker.confirm_hits", 1, 1000)) {
        out.confirm_hits = static_cast<int>(*v);
      }
    }
    ReadExtra(*f, {"max_lost_ms", "confirm_hits"}, out.extra);
  }

  std::optional<Location> ReadLocation(const Node& node, const std::string& path) {
    std::optional<Fields> lf = ReadFields(node, path, {"lat", "lon"});
    if (!lf) return std::nullopt;
    const Entry* lat = Required(*lf, "lat");
    const Entry* lon = Required(*lf, "lon");
    std::optional<double> lat_v, lon_v;
    if (lat) lat_v = ReadNumber(lat->value, Child(path, "lat"), -90, 90);
    if (lon) lon_v = ReadNumber(lon->value, Child(path, "lon"), -180, 180);
    if (!lat_v || !lon_v) return std::nullopt;
    return Location{*lat_v, *lon_v};
  }

  void ParseRecord(const Node& node, const std::string& path, RecordConfig& out) {
    std::optional<Fields> f =
        ReadFields(node, path, {"mode", "segment_s", "pre_roll_s", "post_roll_s"});
    if (!f) return;
    if (const Entry* e = f->Find("mode")) {
      if (auto v = ReadString(e->value, Child(path, "mode"))) {
        if (*v == "continuous") {
          out.mode = RecordMode::kContinuous;
        } else if (*v == "events") {
          out.mode = RecordMode::kEvents;
        } else if (*v == "off") {
          out.mode = RecordMode::kOff;
        } else {
          Error(e->value,
                absl::StrCat(Child(path, "mode"), " must be 'continuous', 'events' or 'off', got ",
                             Quote(*v)));
        }
      }
    }
    if (const Entry* e = f->Find("segment_s")) {
      if (auto v = ReadNumber(e->value, Child(path, "segment_s"), 2, 600)) out.segment_s = *v;
    }
    if (const Entry* e = f->Find("pre_roll_s")) {
      if (auto v = ReadNumber(e->value, Child(path, "pre_roll_s"), 0, 60)) out.pre_roll_s = *v;
    }
    if (const Entry* e = f->Find("post_roll_s")) {
      if (auto v = ReadNumber(e->value, Child(path, "post_roll_s"), 0, 600)) out.post_roll_s = *v;
    }
  }

  // The ages of `retention` and of a camera's override; 1 hour to 10 years each.
  void ReadRetentionAges(const Fields& f, std::optional<double>& video_hours,
                         std::optional<double>& events_days,
                         std::optional<double>& snapshots_days) {
    constexpr double kTenYearsDays = 3653;
    if (const Entry* e = f.Find("video_hours")) {
      video_hours = ReadNumber(e->value, Child(f.path, "video_hours"), 1, kTenYearsDays * 24);
    }
    if (const Entry* e = f.Find("events_days")) {
      events_days = ReadNumber(e->value, Child(f.path, "events_days"), 1.0 / 24, kTenYearsDays);
    }
    if (const Entry* e = f.Find("snapshots_days")) {
      snapshots_days =
          ReadNumber(e->value, Child(f.path, "snapshots_days"), 1.0 / 24, kTenYearsDays);
    }
  }

  void ParseRetention(const Node& node, RetentionConfig& out) {
    std::optional<Fields> f = ReadFields(node, "retention",
                                         {"video_hours", "events_days", "snapshots_days",
                                          "video_quota_gb", "min_free_gb", "plate_reads_hours"});
    if (!f) return;
    std::optional<double> video_hours, events_days;
    ReadRetentionAges(*f, video_hours, events_days, out.snapshots_days);
    if (video_hours) out.video_hours = *video_hours;
    if (events_days) out.events_days = *events_days;
    if (const Entry* e = f->Find("video_quota_gb")) {
      if (auto v = ReadNumber(e->value, "retention.video_quota_gb", 0, 1e6))
        out.video_quota_gb = *v;
    }
    if (const Entry* e = f->Find("min_free_gb")) {
      if (auto v = ReadNumber(e->value, "retention.min_free_gb", 0, 1e6)) out.min_free_gb = *v;
    }
    if (const Entry* e = f->Find("plate_reads_hours")) {
      if (auto v = ReadNumber(e->value, "retention.plate_reads_hours", 1, 90 * 24)) {
        out.plate_reads_hours = *v;
      }
    }
  }

  void ParsePlates(const Node& node, PlatesConfig& out) {
    const std::string path = "plates";
    std::optional<Fields> f =
        ReadFields(node, path,
                   {"country", "patterns", "sample_interval_s", "max_reads_per_track",
                    "min_vehicle_height_px", "full_frame_max_width"});
    if (!f) return;
    if (const Entry* e = f->Find("country")) {
      if (auto v = ReadString(e->value, Child(path, "country"))) {
        if (*v == "us" || *v == "rs" || *v == "eu" || *v == "any") {
          out.country = *v;
        } else {
          Error(e->value, absl::StrCat(Child(path, "country"), " must be us, rs, eu or any, got ",
                                       Quote(*v), " (or give plates.patterns)"));
        }
      }
    }
    if (const Entry* e = f->Find("patterns")) {
      ForEachItem(e->value, Child(path, "patterns"),
                  [&](const Node& item, const std::string& item_path, size_t) {
                    if (auto v = ReadNonEmptyString(item, item_path)) out.patterns.push_back(*v);
                  });
    }
    if (const Entry* e = f->Find("sample_interval_s")) {
      if (auto v = ReadNumber(e->value, Child(path, "sample_interval_s"), 0, 10)) {
        out.sample_interval_s = *v;
      }
    }
    if (const Entry* e = f->Find("max_reads_per_track")) {
      if (auto v = ReadInt(e->value, Child(path, "max_reads_per_track"), 1, 50)) {
        out.max_reads_per_track = static_cast<int>(*v);
      }
    }
    if (const Entry* e = f->Find("min_vehicle_height_px")) {
      if (auto v = ReadInt(e->value, Child(path, "min_vehicle_height_px"), 0, 2000)) {
        out.min_vehicle_height_px = static_cast<int>(*v);
      }
    }
    if (const Entry* e = f->Find("full_frame_max_width")) {
      if (auto v = ReadInt(e->value, Child(path, "full_frame_max_width"), 320, 8192)) {
        out.full_frame_max_width = static_cast<int>(*v);
      }
    }
  }

  void ParseServer(const Node& node, ServerConfig& out) {
    const std::string path = "server";
    std::optional<Fields> f = ReadFields(
        node, path,
        {"bind", "port", "data_dir", "site_name", "operator", "media_roots", "web_root", "map"});
    if (!f) return;
    if (const Entry* e = f->Find("bind")) {
      if (auto v = ReadNonEmptyString(e->value, "server.bind")) out.bind = *v;
    }
    if (const Entry* e = f->Find("port")) {
      if (auto v = ReadInt(e->value, "server.port", 0, 65535)) out.port = static_cast<int>(*v);
    }
    if (const Entry* e = f->Find("data_dir")) {
      if (auto v = ReadNonEmptyString(e->value, "server.data_dir")) out.data_dir = *v;
    }
    if (const Entry* e = f->Find("site_name")) {
      if (auto v = ReadNonEmptyString(e->value, "server.site_name")) out.site_name = *v;
    }
    if (const Entry* e = f->Find("operator")) {
      if (auto v = ReadNonEmptyString(e->value, "server.operator")) out.operator_name = *v;
    }
    if (const Entry* e = f->Find("web_root")) {
      if (auto v = ReadNonEmptyString(e->value, "server.web_root")) out.web_root = *v;
    }
    if (const Entry* e = f->Find("media_roots")) {
      ForEachItem(e->value, "server.media_roots",
                  [&](const Node& item, const std::string& item_path, size_t) {
                    if (auto v = ReadNonEmptyString(item, item_path)) out.media_roots.push_back(*v);
                  });
    }
    if (const Entry* e = f->Find("map")) {
      const std::string mpath = "server.map";
      if (auto mf = ReadFields(e->value, mpath, {"tile_url", "attribution", "center", "zoom"})) {
        if (const Entry* m = mf->Find("tile_url")) {
          if (auto v = ReadString(m->value, "server.map.tile_url")) {
            const bool web = absl::StartsWith(*v, "https://") || absl::StartsWith(*v, "http://");
            if (!v->empty() && (!web || v->find("{z}") == std::string::npos)) {
              Error(m->value, absl::StrCat("server.map.tile_url must be an http(s) URL with {z}, "
                                           "{x} and {y}, or \"\" for no tiles; got ",
                                           Quote(*v)));
            } else {
              out.map.tile_url = *v;
            }
          }
        }
        if (const Entry* m = mf->Find("attribution")) {
          if (auto v = ReadString(m->value, "server.map.attribution")) out.map.attribution = *v;
        }
        if (const Entry* m = mf->Find("center")) {
          out.map.center = ReadLocation(m->value, "server.map.center");
        }
        if (const Entry* m = mf->Find("zoom")) {
          if (auto v = ReadInt(m->value, "server.map.zoom", 1, 20))
            out.map.zoom = static_cast<int>(*v);
        }
      }
    }
  }

  void ParsePrivacy(const Node& node, PrivacyConfig& out) {
    std::optional<Fields> f = ReadFields(node, "privacy", {"mask_plates", "plate_sample_ms"});
    if (!f) return;
    if (const Entry* e = f->Find("mask_plates")) {
      if (auto v = ReadBool(e->value, "privacy.mask_plates")) out.mask_plates = *v;
    }
    if (const Entry* e = f->Find("plate_sample_ms")) {
      if (auto v = ReadInt(e->value, "privacy.plate_sample_ms", 0, 1000)) {
        out.plate_sample_ms = static_cast<int>(*v);
      }
    }
  }

  void ParseStore(const Node& node, StoreConfig& out) {
    std::optional<Fields> f = ReadFields(node, "store", {"sqlite"});
    if (!f) return;
    if (const Entry* e = f->Find("sqlite")) {
      if (auto v = ReadNonEmptyString(e->value, "store.sqlite")) out.sqlite = *v;
    }
  }

  const std::string source_;
  const ParseOptions& options_;
  struct Problem {
    int line;  // 0-based; -1 when not about a place in the file.
    int column;
    std::string message;
  };
  std::vector<Problem> errors_;
  int suppressed_ = 0;
  int64_t visits_ = 0;
  bool too_large_ = false;
  std::vector<LabelUse> label_uses_;
  bool detector_labels_ok_ = true;
};

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view source_name,
                                   const ParseOptions& options) {
  Parser parser(absl::string_view(source_name.data(), source_name.size()), options);
  return parser.Parse(absl::string_view(text.data(), text.size()));
}

absl::StatusOr<Config> LoadConfig(const std::string& path, const ParseOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot access config file '", path, "': ", ec.message()));
  }
  if (!fs::exists(status)) {
    return absl::NotFoundError(absl::StrCat("config file '", path,
                                            "' does not exist; pass the path of a YAML "
                                            "configuration (see examples/config.yaml)"));
  }
  if (fs::is_directory(status)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config path '", path, "' is a directory; pass the YAML file inside it"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot open config file '", path, "' for reading; check its permissions"));
  }
  // A configuration is small; refuse anything that is clearly not one rather than read it all.
  constexpr std::uintmax_t kMaxBytes = 16 << 20;
  const std::uintmax_t size = fs::is_regular_file(status) ? fs::file_size(path, ec) : 0;
  if (!ec && size > kMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat("config file '", path, "' is ", size,
                                                   " bytes; a configuration is at most 16 MiB"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::UnavailableError(absl::StrCat("error reading config file '", path, "'"));
  }
  CUSTOS_ASSIGN_OR_RETURN(Config config, ParseConfig(text.str(), path, options));
  config.base_dir = fs::path(path).parent_path().string();
  return config;
}

std::string ResolvePath(const Config& config, const std::string& path) {
  if (config.base_dir.empty() || path.empty() || path.find("://") != std::string::npos ||
      std::filesystem::path(path).is_absolute()) {
    return path;
  }
  return (std::filesystem::path(config.base_dir) / path).string();
}

const char* RecordModeName(RecordMode mode) {
  switch (mode) {
    case RecordMode::kContinuous:
      return "continuous";
    case RecordMode::kEvents:
      return "events";
    case RecordMode::kOff:
      return "off";
  }
  return "continuous";
}

const char* RtspTransportName(RtspTransport transport) {
  switch (transport) {
    case RtspTransport::kTcp:
      return "tcp";
    case RtspTransport::kUdp:
      return "udp";
  }
  return "tcp";
}

}  // namespace custos::config
