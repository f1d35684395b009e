#include "transparency/markdown_html.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::transparency {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MarkdownToHtml, RendersHeadingsParagraphsListsAndCode) {
  const std::string html = MarkdownToHtml(
      "# Title one\n\nSome **bold** text\ncontinued with `code`.\n\n- a\n- [ ] **TODO:** b\n  "
      "more of b\n\n1. first\n2. second\n\n```\nx < y\n```\n\n> quoted\n\n---\n");
  EXPECT_THAT(html, HasSubstr("<h1 id=\"title-one\">Title one</h1>"));
  EXPECT_THAT(
      html, HasSubstr("<p>Some <strong>bold</strong> text continued with <code>code</code>.</p>"));
  EXPECT_THAT(html, HasSubstr("<ul>\n<li>a</li>\n<li class=\"todo\"><span class=\"box\">&#9744;"
                              "</span> <strong>TODO:</strong> b more of b</li>\n</ul>"));
  EXPECT_THAT(html, HasSubstr("<ol>\n<li>first</li>\n<li>second</li>\n</ol>"));
  EXPECT_THAT(html, HasSubstr("<pre><code>x &lt; y\n</code></pre>"));
  EXPECT_THAT(html, HasSubstr("<blockquote><p>quoted</p>\n</blockquote>"));
  EXPECT_THAT(html, HasSubstr("<hr>"));
}

TEST(MarkdownToHtml, RendersTablesWithEscapedPipes) {
  const std::string html =
      MarkdownToHtml("| id | name |\n|---|---|\n| `a` | x \\| y |\n| `b|c` | z |\n\nafter\n");
  EXPECT_THAT(html, HasSubstr("<thead><tr><th>id</th><th>name</th></tr></thead>"));
  EXPECT_THAT(html, HasSubstr("<tr><td><code>a</code></td><td>x | y</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><td><code>b|c</code></td><td>z</td></tr>"));
  EXPECT_THAT(html, HasSubstr("</table>\n<p>after</p>"));
  EXPECT_THAT(html, HasSubstr("<table>\n"));
  // Nine columns or more: printed on landscape pages.
  EXPECT_THAT(MarkdownToHtml("|1|2|3|4|5|6|7|8|9|\n|-|-|-|-|-|-|-|-|-|\n"),
              HasSubstr("<table class=\"wide\">"));
}

TEST(MarkdownToHtml, EscapesEverythingThatIsNotMarkdown) {
  const std::string hostile = "<script>alert('x')</script> & \"q\" <img src=x onerror=y>";
  const std::string html = MarkdownToHtml(hostile);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html,
              HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
  EXPECT_THAT(MarkdownToHtml("`<b>`"), HasSubstr("<code>&lt;b&gt;</code>"));
}

TEST(MarkdownEscape, TextComesBackUnchangedThroughTheRenderer) {
  for (const std::string text :
       {"a|b*c<d>[e]`f`\\g", "# not a heading", "- not a list", "**not bold**", "line\nbreak"}) {
    const std::string html = MarkdownToHtml(MarkdownEscape(text));
    std::string expected = text;
    for (char& c : expected) {
      if (c == '\n') c = ' ';
    }
    EXPECT_EQ(html, "<p>" + HtmlEscape(expected) + "</p>\n") << text;
  }
  // In a table cell, an escaped pipe does not split the cell.
  const std::string html =
      MarkdownToHtml("| a | b |\n|---|---|\n| " + MarkdownEscape("x|y") + " | z |\n");
  EXPECT_THAT(html, HasSubstr("<td>x|y</td><td>z</td>"));
}

TEST(RenderDpiaHtml, IsACompleteDocumentWithAPrintStylesheetAndNoScript) {
  const std::string html = RenderDpiaHtml("# DPIA\n\ntext\n", "Title <x>");
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<title>Title &lt;x&gt;</title>"));
  EXPECT_THAT(html, HasSubstr("@page"));
  EXPECT_THAT(html, HasSubstr("size: A4"));
  EXPECT_THAT(html, HasSubstr("<h1 id=\"dpia\">DPIA</h1>"));
  EXPECT_THAT(html, HasSubstr("default-src 'none'"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
}

}  // namespace
}  // namespace custos::transparency
