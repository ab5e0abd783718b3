"""A receipt as a PDF file, written by hand (PDF 1.4, one page, the standard Helvetica font):
a receipt is a few lines of text, not worth a dependency.

Text is encoded in WinAnsi (cp1252), which the standard fonts use: French accents, the euro
sign and typographic quotes print; anything else becomes "?".
"""

from __future__ import annotations


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def receipt_pdf(*, title: str, lines: list[tuple[str, str]], footer: str = "") -> bytes:
    """A one-page A4 PDF: a title, then label / value lines, then a footer."""
    content = [b"BT", b"/F2 16 Tf", b"56 780 Td", b"(" + _escape(title) + b") Tj", b"ET"]
    y = 740
    for label, value in lines:
        content += [
            b"BT /F1 11 Tf 56 %d Td (" % y + _escape(label) + b") Tj ET",
            b"BT /F2 11 Tf 240 %d Td (" % y + _escape(value) + b") Tj ET",
        ]
        y -= 20
    if footer:
        content.append(b"BT /F1 9 Tf 56 %d Td (" % (y - 20) + _escape(footer) + b") Tj ET")
    stream = b"\n".join(content)
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        font % b"Helvetica",
        font % b"Helvetica-Bold",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
