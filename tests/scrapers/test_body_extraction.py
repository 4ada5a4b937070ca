"""The generic body finder on pages written to look like real news pages."""

from __future__ import annotations

from scrapers import ExtractionFlag, extract

P1 = (
    "Rescue teams reached the flooded valley on Tuesday after two days of heavy rain cut the roads."
)
P2 = "Officials said more than three hundred families had been moved to schools and a sports hall."
P3 = (
    "The weather service expects the river to fall slowly over the week, but warned of new showers."
)
P4 = "Farmers in the lower valley said their harvest was lost and asked the government for support."

PAGE = f"""<!doctype html><html lang="en"><head><title>Floods hit valley | Daily Test</title>
<meta property="og:title" content="Floods hit the valley"></head><body>
<header class="site-header"><a href="/">Daily Test</a>
  <nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<div class="page-wrapper has-sidebar">
 <main>
  <ol class="breadcrumbs"><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ol>
  <article>
   <h1>Floods hit the valley</h1>
   <div class="byline">By Sam Reed | November 3, 2024 10:15 AM</div>
   <div class="share-bar"><a href="#">Share on Facebook</a><a href="#">Tweet</a></div>
   <div class="article-body">
    <p>{P1}</p>
    <figure><img src="/a.jpg"><figcaption>The valley on Tuesday. (Photo: Test Agency)</figcaption></figure>
    <p>{P2}</p>
    <div class="ad-slot"><span>Advertisement</span></div>
    <h2>What comes next</h2>
    <p>{P3}</p>
    <aside class="pullquote">"We lost everything," one farmer said.</aside>
    <div class="newsletter-signup"><h3>Sign up for our newsletter</h3>
      <p>Get the best stories of the day delivered to your inbox every morning, free.</p></div>
    <p>{P4}</p>
    <div class="related-articles"><h3>Related</h3><ul>
      <li><a href="/a">Storm warning issued for the coast</a></li>
      <li><a href="/b">Government announces relief fund for farmers in the north</a></li></ul></div>
   </div>
  </article>
  <section id="comments"><h3>Comments</h3>
   <div class="comment"><p>This is a long reader comment about the floods and the government response to them.</p></div>
  </section>
 </main>
 <div class="sidebar"><h3>Most popular</h3><ul><li><a href="/x">Celebrity wedding photos</a></li></ul></div>
</div>
<footer><p>&copy; 2024 Daily Test. All rights reserved.</p></footer>
</body></html>"""


def test_body_keeps_paragraphs_and_subheadings_and_drops_chrome() -> None:
    article = extract(PAGE, "https://daily.test/news/floods")
    assert article.text == "\n\n".join([P1, P2, "What comes next", P3, P4])
    assert article.title == "Floods hit the valley"
    assert article.flags == ()


def test_recirculation_feed_of_full_teasers_is_left_out() -> None:
    teaser = (
        "<div class='feed-item'><h3><a href='/t{i}'>Another story number {i}</a></h3>"
        "<p>This teaser paragraph describes another story in enough words to look like prose "
        "and it goes on for a while, number {i}.</p></div>"
    )
    feed = "<div class='more-from'>" + "".join(teaser.format(i=i) for i in range(8)) + "</div>"
    page = PAGE.replace("</main>", "</main>" + feed)
    article = extract(page, "https://daily.test/news/floods")
    assert "teaser paragraph" not in article.text
    assert article.text.startswith(P1)


def test_article_split_around_a_figure_is_joined() -> None:
    part = "<div class='body-part'><p>{}</p><p>{}</p></div>"
    html = (
        "<html><body><div class='wrap'><div class='inner'><div class='story'>"
        + part.format(P1, P2)
        + "<figure><img src='x.jpg'><figcaption>Caption</figcaption></figure>"
        + "</div><div class='story'>"
        + part.format(P3, P4)
        + "</div></div></div></body></html>"
    )
    article = extract(html)
    assert article.text == "\n\n".join([P1, P2, P3, P4])


def test_long_page_of_links_is_no_article() -> None:
    links = "".join(f"<p><a href='/s{i}'>{P1}</a></p>" for i in range(20))
    article = extract(f"<html><body>{links}</body></html>")
    assert article.text == ""
    assert ExtractionFlag.NO_ARTICLE in article.flags
