"""The folder a fetch fills: each paper beside its `<file>.meta.json`, and the state that makes a fetch resumable.

A paper is written as a hidden `.part` file, renamed into place once whole, and only then
recorded, so an interrupted fetch leaves nothing that looks fetched but is not. The state
(`.scrutiny-fetch.json`, hidden from ingest) maps each site's attachment keys to the file,
size and hash fetched; the sidecars carry the same facts, so a lost state is rebuilt from them.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_NAME = ".scrutiny-fetch.json"
PART_SUFFIX = ".part"
SIDECAR_SUFFIX = ".meta.json"
MAX_STEM_CHARS = 120
# Where a sidecar keeps what the connector needs to know a paper again; ingest ignores this key.
ORIGIN_KEY = "moderngov"


@dataclass
class Held:
    file: str
    bytes: int
    sha256: str


@dataclass
class FetchState:
    folder: Path
    site: str
    documents: dict[str, Held] = field(default_factory=dict)
    complete_meetings: set[str] = field(default_factory=set)
    rebuilt: bool = False  # the state file was missing or unreadable and came from the sidecars

    @classmethod
    def load(cls, folder: Path, site: str) -> "FetchState":
        path = Path(folder) / STATE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = data["sites"].get(site, {})
            documents = {key: Held(**held) for key, held in record.get("documents", {}).items()}
            return cls(Path(folder), site, documents, set(record.get("complete_meetings", [])))
        except FileNotFoundError:
            return cls(Path(folder), site, held_from_sidecars(Path(folder), site), rebuilt=False)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls(Path(folder), site, held_from_sidecars(Path(folder), site), rebuilt=True)

    def held(self, key: str) -> Held | None:
        """The paper fetched for `key`, when its file is still there at the size recorded."""
        held = self.documents.get(key)
        if held is None:
            return None
        path = self.folder / held.file
        return held if path.is_file() and path.stat().st_size == held.bytes else None

    def record(self, key: str, held: Held) -> None:
        self.documents[key] = held
        self.save()

    def mark_complete(self, meeting_id: str) -> None:
        self.complete_meetings.add(meeting_id)
        self.save()

    def save(self) -> None:
        path = self.folder / STATE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            sites = data["sites"] if isinstance(data.get("sites"), dict) else {}
        except (OSError, ValueError, AttributeError):
            sites = {}
        sites[self.site] = {
            "documents": {key: asdict(held) for key, held in sorted(self.documents.items())},
            "complete_meetings": sorted(self.complete_meetings),
        }
        write_atomically(path, json.dumps({"version": 1, "sites": sites}, indent=1).encode("utf-8"))


def held_from_sidecars(folder: Path, site: str) -> dict[str, Held]:
    """What earlier fetches from `site` left in `folder`, read from the papers' sidecars."""
    found: dict[str, Held] = {}
    for sidecar in sorted(folder.glob("*" + SIDECAR_SUFFIX)) if folder.is_dir() else []:
        try:
            origin = json.loads(sidecar.read_text(encoding="utf-8")).get(ORIGIN_KEY) or {}
            paper = sidecar.name[: -len(SIDECAR_SUFFIX)]
            if origin.get("site") == site and origin.get("key") and (folder / paper).is_file():
                found[origin["key"]] = Held(paper, int(origin["bytes"]), str(origin["sha256"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # a sidecar that is not ours, or damaged: that paper is fetched again
    return found


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step: readers see the old file or the new one, never half of one."""
    temporary = path.with_name(f".{path.name}{PART_SUFFIX}")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def part_path(folder: Path, key: str) -> Path:
    return folder / f".{slug(key, 40)}{PART_SUFFIX}"


def remove_stale_parts(folder: Path) -> int:
    """Delete downloads an interrupted fetch left unfinished; returns how many there were."""
    stale = list(folder.glob(f".*{PART_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def slug(text: str, limit: int) -> str:
    """Lower-case ASCII words joined by hyphens, cut at a word boundary within `limit` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > limit:
            break
        out = candidate
    return out or (words[0][:limit] if words else "x")


def paper_stem(authority: str, date: str, committee: str, key: str, title: str) -> str:
    """A file stem (the paper's document id) unique across councils: council, date, committee, key, title."""
    key_part = slug(key, 24) if re.fullmatch(r"[a-z][\d-]+", key) else "g" + hashlib.sha1(key.encode()).hexdigest()[:10]
    stem = "_".join([slug(authority, 40), date, slug(committee, 30), key_part])
    room = MAX_STEM_CHARS - len(stem) - 1
    return f"{stem}_{slug(title, room)}" if room > 8 else stem


def paper_suffix(first_bytes: bytes, content_type: str, url: str, path: Path) -> str | None:
    """The extension ingest reads the downloaded file by, or None for a format it does not read."""
    kind = content_type.split(";")[0].strip().lower()
    if b"%PDF-" in first_bytes[:1024]:
        return ".pdf"
    if first_bytes.startswith(b"PK\x03\x04"):
        return ".docx" if _is_word(path) else None
    if kind in ("text/html", "application/xhtml+xml"):
        return ".html"
    if kind == "text/plain":
        return ".txt"
    suffix = Path(url.split("?")[0]).suffix.lower()
    return suffix if suffix in {".txt", ".md", ".html", ".htm"} else None


def _is_word(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def write_sidecar(paper: Path, meta: dict) -> Path:
    sidecar = paper.with_name(paper.name + SIDECAR_SUFFIX)
    write_atomically(sidecar, (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return sidecar
