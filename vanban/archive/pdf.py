"""Searchable PDF/A-2b of a scan: the original pages untouched, the restored text invisible on top.

Built on OCRmyPDF's hOCR -> PDF stage (`ocrmypdf.api._hocr_to_ocr_pdf`): vanban lays out the work
folder OCRmyPDF's own `pdf_to_hocr` would have left (the original PDF as `origin.pdf`, one hOCR
per page, holding the restored words), and OCRmyPDF renders each page's invisible text layer,
grafts it onto the original page without re-encoding its images, strips an older invisible OCR
layer (its "redo" mode, for legacy PDFs with an English OCR layer), and saves PDF/A-2b through
pikepdf's PDF/A conversion (Ghostscript only if that fails). Image inputs are wrapped losslessly
by img2pdf first.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from vanban.archive.hocr import render_hocr
from vanban.archive.words import PageLayout
from vanban.core.errors import VanbanError
from vanban.core.files import TEMP_PREFIX
from vanban.core.formats import file_kind

PDFA_TYPE = "pdfa-2"  # PDF/A-2b
log = logging.getLogger("vanban")


def write_searchable_pdf(source: Path, pages: list[PageLayout], output: Path) -> None:
    """Write `output`: the PDF (or image) `source` with the restored words as its text layer.

    Raises VanbanError when OCRmyPDF fails; `output` is written atomically."""
    source, output = Path(source), Path(output)
    if output.resolve() == source.resolve():
        raise VanbanError(str(source), f"--pdf would overwrite the input {output}")
    for name in ("ocrmypdf", "fontTools", "fpdf", "pikepdf"):  # their INFO is not ours to show
        logging.getLogger(name).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="vanban-pdf-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        _origin_pdf(source, work / "origin.pdf")
        for page in pages:
            if page.lines:
                _write_page_hocr(work, page, str(source))
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".pdf", dir=output.parent)
        os.close(fd)
        try:
            _render(work, Path(temp), str(source))
            os.chmod(temp, 0o644)
            os.replace(temp, output)
        finally:
            Path(temp).unlink(missing_ok=True)


def _origin_pdf(source: Path, target: Path) -> None:
    """The PDF OCRmyPDF grafts onto: the input itself, or its image pages wrapped by img2pdf."""
    if file_kind(source) == "pdf":
        try:
            os.link(source, target)  # read only: a link saves copying a large scan
        except OSError:
            shutil.copyfile(source, target)
        return
    import img2pdf

    try:
        target.write_bytes(img2pdf.convert(str(source)))
    except (img2pdf.ImageOpenError, img2pdf.AlphaChannelError, ValueError) as err:
        raise VanbanError(str(source), f"--pdf cannot wrap this image in a PDF: {err}") from err


def _write_page_hocr(work: Path, page: PageLayout, source: str) -> None:
    """The two files OCRmyPDF's hOCR stage reads for page n: `{n:06d}_hocr.json` says the page
    was OCR'd, `{n:06d}_ocr_hocr.hocr` holds its words."""
    prefix = work / f"{page.number:06d}"
    Path(f"{prefix}_ocr_hocr.hocr").write_text(render_hocr([page], source), encoding="utf-8")
    Path(f"{prefix}_hocr.json").write_text(json.dumps({"pageno": page.number - 1}))


def _render(work: Path, output: Path, source: str) -> None:
    """OCRmyPDF's hOCR -> PDF stage on the work folder; a plain PDF (with a warning) when the
    file cannot be made PDF/A without re-encoding it."""
    try:
        import ocrmypdf
        from ocrmypdf.api import _hocr_to_ocr_pdf
    except ImportError as err:
        raise VanbanError(source, "--pdf needs OCRmyPDF: pip install 'vanban[archive]'") from err

    settings = dict(
        jobs=1,
        optimize=0,
        mode="redo",  # an old invisible OCR layer is replaced; visible text stays
        pdfa_backend="internal",  # pikepdf: Ghostscript would re-encode the page images
        progress_bar=False,
        title=Path(source).name,
    )
    try:
        try:
            code = _hocr_to_ocr_pdf(work, output, output_type=PDFA_TYPE, **settings)
        except ocrmypdf.exceptions.PdfaConversionFailedError as err:
            log.warning("%s: --pdf is not PDF/A (%s)", source, str(err).splitlines()[0])
            code = _hocr_to_ocr_pdf(work, output, output_type="pdf", **settings)
    except ocrmypdf.exceptions.ExitCodeException as err:
        raise VanbanError(source, f"--pdf failed: {err.message or type(err).__name__}") from err
    if code != ocrmypdf.ExitCode.ok:
        raise VanbanError(source, f"--pdf failed: OCRmyPDF exit code {int(code)}")
