"""What the electronic seal costs per certificate, against rendering the certificate itself, in one run.

1. baseline: render the permit certificate (reportlab, the document font, the QR code) — what every print paid;
2. seal: PAdES signature of that PDF with an authority's ECDSA P-256 key and the seal image (pyHanko);
3. check: the public verification of a sealed file (digest, chain to the trust root, coverage);
4. check of a tampered file (one changed byte).
Keys from an in-memory test CA (no AWS): the figures are the CPU cost of a Lambda invocation's work.

Run: .venv/bin/python bench/licence_seal.py [n=30]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn, n: int) -> float:
    fn()  # warm: imports, font registration, seal image
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main(n: int) -> None:
    import logging

    logging.disable(logging.CRITICAL)
    from chalicelib.adapters.licence_seal import check_pdf, new_authority_key, new_ca, seal_pdf
    from chalicelib.domain.certificate import render_permit, render_seal_png
    from chalicelib.domain.elicence import licence_id

    ca_key, ca_cert = new_ca("基准测试根证书")
    key = new_authority_key("义乌市住房和城乡建设局", ca_key, ca_cert)
    png = render_seal_png("义乌市住房和城乡建设局")
    fields = {
        "permit_no": "330782202612080001",
        "project_name": "义乌市双江湖科创园一期工程",
        "build_unit": "义乌市建工集团有限公司",
        "issuer": "义乌市住房和城乡建设局",
        "issued_on": "2026-12-08",
        "start_deadline": "2027-03-08",
        "edition": 1,
        "verification_id": "zjbench7Kq2vNf9sWx4Lp",
        "licence_id": licence_id("330782", "330782202612080001", 1),
    }

    def render():
        return render_permit(fields, copy="正本", verify_url="https://example.invalid/v", reprint=0)

    pdf, box = render()
    sealed = seal_pdf(pdf, key, box=box, seal_png=png, reason="核发", location="义乌市")
    broken = bytearray(sealed)
    broken[len(broken) // 3] ^= 1
    base = timed(render, n)
    sign = timed(lambda: seal_pdf(pdf, key, box=box, seal_png=png, reason="核发", location="义乌市"), n)
    check = timed(lambda: check_pdf(sealed, [ca_cert]), n)
    bad = timed(lambda: check_pdf(bytes(broken), [ca_cert]), n)
    assert check_pdf(sealed, [ca_cert]).valid and not check_pdf(bytes(broken), [ca_cert]).valid
    print(f"render (baseline) {base * 1000:.1f} ms")
    print(f"seal              {sign * 1000:.1f} ms  ({sign / base:.2f}x render)")
    print(f"check             {check * 1000:.1f} ms  ({check / base:.2f}x render)")
    print(f"check (tampered)  {bad * 1000:.1f} ms  ({bad / base:.2f}x render)")
    print(f"file size: unsealed {len(pdf) // 1024} KB, sealed {len(sealed) // 1024} KB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
