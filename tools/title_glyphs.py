"""Write the demo page's title and favicon as SVG paths, so 深度 shows where no CJK font is installed.

The outlines of 深 and 度 come from Droid Sans Fallback (Apache License 2.0; Debian's
``fonts-droid-fallback``), read with fontTools. Run once when the title changes::

    python tools/title_glyphs.py /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
"""

import argparse
import os

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "shendu", "serve", "static")
NOTE = "<!-- 深度: glyph outlines from Droid Sans Fallback, Apache License 2.0 (tools/title_glyphs.py) -->"


def glyph_paths(font, text):
    """One SVG path per character, laid out left to right in font units, y pointing down; and the width."""
    cmap, glyphs = font.getBestCmap(), font.getGlyphSet()
    ascent = font["hhea"].ascent
    paths, x = [], 0
    for character in text:
        name = cmap[ord(character)]
        pen = SVGPathPen(glyphs)
        glyphs[name].draw(TransformPen(pen, (1, 0, 0, -1, x, ascent)))  # flip y: fonts point up, SVG down
        paths.append(pen.getCommands())
        x += glyphs[name].width
    return paths, x, ascent - font["hhea"].descent


def svg(paths, width, height, title):
    body = "".join(f'<path d="{d}"/>' for d in paths)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{title}"><title>{title}</title>{NOTE}<g fill="currentColor">{body}</g></svg>\n')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("font", help="a TrueType font with the two characters")
    font = TTFont(parser.parse_args().font)
    paths, width, height = glyph_paths(font, "深度")
    with open(os.path.join(STATIC, "title.svg"), "w", encoding="utf-8") as f:
        f.write(svg(paths, width, height, "深度").replace('fill="currentColor"', 'fill="#1b1b1b"'))
    paths, width, height = glyph_paths(font, "深")
    icon = svg(paths, width, height, "深度").replace('fill="currentColor"', 'fill="#1f5f8b"')
    with open(os.path.join(STATIC, "favicon.svg"), "w", encoding="utf-8") as f:
        f.write(icon)


if __name__ == "__main__":
    main()
