"""The one exception hierarchy. Every error names the fix for the person who must act.

The CLI maps ``exit_code`` and the web app maps ``http_status`` in one place each.
"""

from __future__ import annotations

from papervault.config.messages import Lang, text


class PapervaultError(Exception):
    """Root of every error papervault raises on purpose."""

    exit_code = 1
    http_status = 500
    key = "bad_input"

    def __init__(self, key: str | None = None, **params: object) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(text(self.key, "en", **params))

    def message(self, lang: Lang = "zh") -> str:
        """The sentence for a person, in ``lang``."""
        return text(self.key, lang, **self.params)

    def __reduce__(self) -> tuple[object, ...]:
        # Exception pickles as ``cls(*args)``, and args holds the English sentence, which
        # is no catalogue key: unpickling in the parent raised KeyError and broke the
        # page-process pool. Rebuild from the key and plain parameters instead, without
        # calling a subclass's own __init__ (whose arguments differ).
        extra = {k: v for k, v in self.__dict__.items() if k not in ("key", "params")}
        return _rebuild, (type(self), self.key, self.params, extra)


def _rebuild(cls: type[PapervaultError], key: str, params: dict[str, object],
             extra: dict[str, object]) -> PapervaultError:
    """Unpickle a :class:`PapervaultError` of any subclass (see ``__reduce__``)."""
    error = cls.__new__(cls)
    PapervaultError.__init__(error, key, **params)
    error.__dict__.update(extra)
    return error


class ConfigError(PapervaultError):
    """The settings or an instance folder are wrong; nothing can start."""

    exit_code = 78  # EX_CONFIG
    key = "config_invalid"


class DependencyMissing(PapervaultError):
    """An external program or language pack is not installed."""

    exit_code = 69  # EX_UNAVAILABLE
    key = "missing_dependency"


class BadInput(PapervaultError):
    """The user gave a value that cannot be used."""

    exit_code = 2
    http_status = 400
    key = "bad_input"


class LinkMismatch(BadInput):
    """A hand link names a 档号 and a client the register says do not belong together."""

    key = "link_mismatch"


# What ``NotFound(what=...)`` names, in Chinese: the raise sites say "document 9999" (plain
# values, so the error pickles and the log reads in English), and a zh page must not show
# "找不到：document 9999" (walkthrough B13). Most specific first.
_THINGS_ZH = (
    (r"page (\S+) of document (\S+)", "文档 {1} 的第 {0} 页"),
    (r"searchable PDF of document (\S+) \(OCR not finished\)",
     "文档 {0} 的可检索 PDF（识别尚未完成）"),
    (r"spot check of document (\S+)", "文档 {0} 的抽检记录"),
    (r"page (\S+)", "第 {0} 页"),
    (r"paper record (.+)", "纸质档案 {0}"),
    (r"document (.+)", "文档 {0}"),
    (r"client (.+)", "客户 {0}"),
    (r"user (.+)", "用户 {0}"),
    (r"token (.+)", "令牌 {0}"),
)


def _what_zh(what: str) -> str:
    """``what`` with its English nouns in Chinese ("page 2 of document 5" → "文档 5 的第 2 页")."""
    import re

    for pattern, zh in _THINGS_ZH:
        m = re.fullmatch(pattern, what)
        if m:
            return zh.format(*m.groups())
    return what


class NotFound(PapervaultError):
    """The thing asked for does not exist."""

    exit_code = 3
    http_status = 404
    key = "not_found"

    def message(self, lang: Lang = "zh") -> str:
        """As the root's, with the thing named in ``lang`` (B13: one language per page)."""
        what = self.params.get("what")
        if lang == "zh" and self.key == "not_found" and isinstance(what, str):
            return text(self.key, lang, **{**self.params, "what": _what_zh(what)})
        return super().message(lang)


class TransientError(PapervaultError):
    """Worth retrying later: the file must stay, never be quarantined for this."""

    exit_code = 75  # EX_TEMPFAIL
    http_status = 503


class NotSignedIn(PapervaultError):
    """Nobody is signed in, or the session or token is no longer valid."""

    exit_code = 77  # EX_NOPERM
    http_status = 401
    key = "login_required"


class Forbidden(PapervaultError):
    """The user is known but their roles do not allow this."""

    exit_code = 77  # EX_NOPERM
    http_status = 403
    key = "forbidden"
