// A small Markdown-to-HTML renderer for the documents Custos generates (the DPIA draft): ATX
// headings, paragraphs, bullet and numbered lists (with "[ ]" check boxes), pipe tables,
// block quotes, fenced code blocks and horizontal rules; inline `code`, **bold** and
// backslash escapes. Everything else is text. All text is HTML-escaped, so the output holds
// no markup that did not come from these rules, and no script.
#pragma once

#include <string>
#include <string_view>

namespace custos::transparency {

// HTML-escapes &, <, >, " and '.
std::string HtmlEscape(std::string_view text);

// Escapes `text` for use in Markdown text or a table cell: the characters this renderer (and
// common Markdown readers) treat specially get a backslash, line breaks become spaces.
std::string MarkdownEscape(std::string_view text);

// The body of `markdown` as HTML (no <html>/<body>).
std::string MarkdownToHtml(std::string_view markdown);

// A complete HTML document with `title` and a print stylesheet (A4; "DRAFT" and "page N of M"
// in the page margins), the body rendered from `markdown`. No scripts, no external resources
// (a Content-Security-Policy forbids them).
std::string RenderDpiaHtml(std::string_view markdown, std::string_view title = "DPIA draft");

}  // namespace custos::transparency
