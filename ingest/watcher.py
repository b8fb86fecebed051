"""All watchdog code. Handlers only put paths on a queue: watchdog calls them on its
observer thread under a lock, and a slow handler would block every other event."""

from __future__ import annotations

import queue
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver


class _Enqueue(FileSystemEventHandler):
    def __init__(self, q: queue.Queue[Path]) -> None:
        self.q = q

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        target = getattr(event, "dest_path", "") or event.src_path
        path = Path(target if isinstance(target, str) else target.decode())
        self.q.put(path)


def start_observer(inbox: Path, events: queue.Queue[Path], polling: bool,
                   poll_interval: float) -> BaseObserver:
    """Watch ``inbox`` recursively; polling for SMB/NFS shares that send no inotify events."""
    observer: BaseObserver = PollingObserver(timeout=poll_interval) if polling else Observer()
    observer.schedule(_Enqueue(events), str(inbox), recursive=True)
    observer.daemon = True
    observer.start()
    return observer
