#include "transparency/markdown_html.h"

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace custos::transparency {
namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string Escape(absl::string_view text);

// Characters that a backslash escapes (CommonMark's ASCII punctuation).
bool IsEscapable(char c) {
  return c != '\0' &&
         absl::string_view("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").find(c) != absl::string_view::npos;
}

// Inline Markdown: `code`, **bold**, backslash escapes; everything else escaped text.
std::string Inline(absl::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && IsEscapable(text[i + 1])) {
      out += Escape(text.substr(i + 1, 1));
      i += 2;
      continue;
    }
    if (c == '`') {
      const size_t end = text.find('`', i + 1);
      if (end != absl::string_view::npos) {
        absl::StrAppend(&out, "<code>", Escape(text.substr(i + 1, end - i - 1)), "</code>");
        i = end + 1;
        continue;
      }
    }
    if (c == '*' && i + 1 < text.size() && text[i + 1] == '*') {
      // The closing ** must not be escaped; scan past escapes and code spans.
      size_t j = i + 2;
      size_t end = absl::string_view::npos;
      while (j + 1 < text.size()) {
        if (text[j] == '\\') {
          j += 2;
          continue;
        }
        if (text[j] == '`') {
          const size_t close = text.find('`', j + 1);
          if (close == absl::string_view::npos) break;
          j = close + 1;
          continue;
        }
        if (text[j] == '*' && text[j + 1] == '*') {
          end = j;
          break;
        }
        ++j;
      }
      if (end != absl::string_view::npos && end > i + 2) {
        absl::StrAppend(&out, "<strong>", Inline(text.substr(i + 2, end - i - 2)), "</strong>");
        i = end + 2;
        continue;
      }
    }
    out += Escape(text.substr(i, 1));
    ++i;
  }
  return out;
}

// Splits a table row on unescaped '|' outside code spans; drops the outer pipes.
std::vector<std::string> SplitRow(absl::string_view line) {
  absl::string_view row = absl::StripAsciiWhitespace(line);
  if (absl::StartsWith(row, "|")) row.remove_prefix(1);
  if (absl::EndsWith(row, "|") && !absl::EndsWith(row, "\\|")) row.remove_suffix(1);
  std::vector<std::string> cells;
  std::string cell;
  bool in_code = false;
  for (size_t i = 0; i < row.size(); ++i) {
    const char c = row[i];
    if (c == '\\' && i + 1 < row.size() && !in_code) {
      cell += c;
      cell += row[++i];
      continue;
    }
    if (c == '`') in_code = !in_code;
    if (c == '|' && !in_code) {
      cells.emplace_back(absl::StripAsciiWhitespace(cell));
      cell.clear();
      continue;
    }
    cell += c;
  }
  cells.emplace_back(absl::StripAsciiWhitespace(cell));
  return cells;
}

bool IsTableSeparator(absl::string_view line) {
  absl::string_view s = absl::StripAsciiWhitespace(line);
  if (s.empty() || s.find('-') == absl::string_view::npos) return false;
  for (const char c : s) {
    if (c != '|' && c != '-' && c != ':' && c != ' ') return false;
  }
  return s.find('|') != absl::string_view::npos;
}

bool IsTableRow(absl::string_view line) {
  return absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "|");
}

// "# Title" -> level 1..6 and the text; 0 when not a heading.
int HeadingLevel(absl::string_view line, absl::string_view* text) {
  int level = 0;
  while (level < static_cast<int>(line.size()) && line[static_cast<size_t>(level)] == '#') {
    ++level;
  }
  if (level == 0 || level > 6 || static_cast<size_t>(level) >= line.size() ||
      line[static_cast<size_t>(level)] != ' ') {
    return 0;
  }
  *text = absl::StripAsciiWhitespace(line.substr(static_cast<size_t>(level) + 1));
  return level;
}

// A list item: "- x", "* x" (bullet) or "12. x" (ordered); returns the item text.
bool ListItem(absl::string_view line, bool* ordered, absl::string_view* text) {
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*') && line[1] == ' ') {
    *ordered = false;
    *text = line.substr(2);
    return true;
  }
  size_t i = 0;
  while (i < line.size() && absl::ascii_isdigit(static_cast<unsigned char>(line[i]))) ++i;
  if (i > 0 && i + 1 < line.size() && line[i] == '.' && line[i + 1] == ' ') {
    *ordered = true;
    *text = line.substr(i + 2);
    return true;
  }
  return false;
}

std::string Slug(absl::string_view text) {
  std::string slug;
  for (const char c : text) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      slug += absl::ascii_tolower(static_cast<unsigned char>(c));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

std::string ListItemHtml(absl::string_view text) {
  if (absl::StartsWith(text, "[ ] ")) {
    return absl::StrCat("<li class=\"todo\"><span class=\"box\">&#9744;</span> ",
                        Inline(text.substr(4)), "</li>\n");
  }
  if (absl::StartsWith(text, "[x] ")) {
    return absl::StrCat("<li class=\"done\"><span class=\"box\">&#9745;</span> ",
                        Inline(text.substr(4)), "</li>\n");
  }
  return absl::StrCat("<li>", Inline(text), "</li>\n");
}

}  // namespace

std::string HtmlEscape(std::string_view text) { return Escape(Sv(text)); }

namespace {

std::string Escape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string MarkdownEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  // A leading '#', '-' or '+' would start a heading or list when the text opens a line.
  if (!text.empty() && (text[0] == '#' || text[0] == '-' || text[0] == '+')) out += '\\';
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (absl::string_view("\\`*|<>[]").find(c) != absl::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string MarkdownToHtml(std::string_view markdown_text) {
  const absl::string_view markdown = Sv(markdown_text);
  const std::vector<absl::string_view> lines = absl::StrSplit(markdown, '\n');
  std::string html;
  std::vector<std::string> paragraph;
  auto flush_paragraph = [&] {
    if (paragraph.empty()) return;
    absl::StrAppend(&html, "<p>", Inline(absl::StrJoin(paragraph, " ")), "</p>\n");
    paragraph.clear();
  };
  size_t i = 0;
  while (i < lines.size()) {
    absl::string_view line = absl::StripTrailingAsciiWhitespace(lines[i]);
    absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
    if (stripped.empty()) {
      flush_paragraph();
      ++i;
      continue;
    }
    if (absl::StartsWith(stripped, "```")) {
      flush_paragraph();
      std::string code;
      ++i;
      while (i < lines.size() &&
             !absl::StartsWith(absl::StripLeadingAsciiWhitespace(lines[i]), "```")) {
        absl::StrAppend(&code, Escape(lines[i]), "\n");
        ++i;
      }
      if (i < lines.size()) ++i;  // The closing fence.
      absl::StrAppend(&html, "<pre><code>", code, "</code></pre>\n");
      continue;
    }
    absl::string_view heading;
    if (const int level = HeadingLevel(stripped, &heading); level > 0) {
      flush_paragraph();
      absl::StrAppend(&html, "<h", level, " id=\"", Slug(heading), "\">", Inline(heading), "</h",
                      level, ">\n");
      ++i;
      continue;
    }
    if (stripped == "---" || stripped == "***") {
      flush_paragraph();
      html += "<hr>\n";
      ++i;
      continue;
    }
    if (IsTableRow(stripped) && i + 1 < lines.size() && IsTableSeparator(lines[i + 1])) {
      flush_paragraph();
      const std::vector<std::string> header = SplitRow(stripped);
      // Tables of many columns get landscape pages of their own when printed.
      html += header.size() >= 9 ? "<table class=\"wide\">\n<thead><tr>" : "<table>\n<thead><tr>";
      for (const std::string& cell : header) {
        absl::StrAppend(&html, "<th>", Inline(cell), "</th>");
      }
      html += "</tr></thead>\n<tbody>\n";
      i += 2;
      while (i < lines.size() && IsTableRow(lines[i])) {
        html += "<tr>";
        for (const std::string& cell : SplitRow(lines[i])) {
          absl::StrAppend(&html, "<td>", Inline(cell), "</td>");
        }
        html += "</tr>\n";
        ++i;
      }
      html += "</tbody>\n</table>\n";
      continue;
    }
    if (absl::StartsWith(stripped, ">")) {
      flush_paragraph();
      std::vector<std::string> quoted;
      while (i < lines.size()) {
        absl::string_view q = absl::StripAsciiWhitespace(lines[i]);
        if (!absl::StartsWith(q, ">")) break;
        q.remove_prefix(1);
        quoted.emplace_back(absl::StripAsciiWhitespace(q));
        ++i;
      }
      absl::StrAppend(&html, "<blockquote>", MarkdownToHtml(absl::StrJoin(quoted, "\n")),
                      "</blockquote>\n");
      continue;
    }
    bool ordered = false;
    absl::string_view item;
    if (ListItem(stripped, &ordered, &item)) {
      flush_paragraph();
      const char* tag = ordered ? "ol" : "ul";
      absl::StrAppend(&html, "<", tag, ">\n");
      std::string current(item);
      ++i;
      // Items continue on indented lines; the list ends at a blank line or another block.
      while (i < lines.size()) {
        absl::string_view next = absl::StripTrailingAsciiWhitespace(lines[i]);
        absl::string_view next_stripped = absl::StripLeadingAsciiWhitespace(next);
        bool next_ordered = false;
        absl::string_view next_item;
        if (next_stripped.empty()) break;
        if (ListItem(next_stripped, &next_ordered, &next_item) && next_ordered == ordered &&
            next.size() == next_stripped.size()) {
          html += ListItemHtml(current);
          current = std::string(next_item);
        } else if (next.size() > next_stripped.size()) {
          absl::StrAppend(&current, " ", next_stripped);
        } else {
          break;
        }
        ++i;
      }
      html += ListItemHtml(current);
      absl::StrAppend(&html, "</", tag, ">\n");
      continue;
    }
    paragraph.emplace_back(stripped);
    ++i;
  }
  flush_paragraph();
  return html;
}

std::string RenderDpiaHtml(std::string_view markdown, std::string_view title) {
  // Print stylesheet: A4, readable serif-free type, tables that break across pages with their
  // header repeated, headings kept with what follows, the draft status on every page.
  static constexpr std::string_view kStyle = R"css(
@page {
  size: A4;
  margin: 18mm 15mm 18mm 15mm;
  @top-left { content: "DRAFT \2014  data protection impact assessment"; font: 8pt sans-serif; color: #a00; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 8pt sans-serif; color: #555; }
}
@page wide { size: A4 landscape; }
table.wide { page: wide; }
html { font: 10pt/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; }
body { margin: 0 auto; max-width: 60em; padding: 1em; }
@media print { body { max-width: none; padding: 0; } }
h1 { font-size: 18pt; margin: 0 0 .4em; }
h2 { font-size: 13.5pt; margin: 1.4em 0 .4em; border-bottom: 1px solid #999; padding-bottom: .1em; }
h3 { font-size: 11pt; margin: 1.1em 0 .3em; }
h4 { font-size: 10pt; margin: 1em 0 .3em; }
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
p, li { orphans: 3; widows: 3; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8.5pt; }
code { background: #f2f2f2; padding: 0 .2em; border-radius: 2px; word-break: break-all; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .6em; white-space: pre-wrap; break-inside: avoid; }
pre code { background: none; padding: 0; word-break: normal; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; font-size: 8pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 3px 4px; vertical-align: top; text-align: left; overflow-wrap: break-word; hyphens: auto; }
th { background: #eee; }
blockquote { margin: .8em 0; padding: .4em .8em; border-left: 4px solid #c00; background: #fff4f4; }
blockquote p { margin: .2em 0; }
li.todo, li.done { list-style: none; margin-left: -1.2em; }
.box { font-size: 11pt; }
hr { border: 0; border-top: 1px solid #999; margin: 1.5em 0; }
)css";
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">\n<title>",
      HtmlEscape(title), "</title>\n<style>", Sv(kStyle), "</style>\n</head>\n<body>\n",
      MarkdownToHtml(markdown), "</body>\n</html>\n");
}

}  // namespace custos::transparency
