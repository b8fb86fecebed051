"""The visibility rule and the type rules without a database: what each scope sees of a
document, how a clearance maps to levels, and which keyword names a page."""

from __future__ import annotations

from papervault.config.settings import AccessSettings, ClassifySettings
from papervault.index.accounts.scope import make_scope
from papervault.index.catalog import doctypes
from papervault.index.catalog.models import Document, PaperRecord

LEVELS = ["公开", "内部", "机密"]
TYPES = {"身份证复印件": "机密"}


def _doc(**kw: object) -> Document:
    return Document(sha256="0" * 64, size=1, original_name="x", media_type="pdf",
                    object_name="o", object_size=1, wrapped_key=b"k", key_id="k", **kw)


def test_scope_by_department_and_clearance() -> None:
    claims = make_scope(["理赔部"], "内部", LEVELS, "内部", TYPES)
    top = make_scope([], "机密", LEVELS, "内部", TYPES)
    assert top.unrestricted and not claims.unrestricted
    assert claims.sees_document(_doc(department="理赔部"))  # unclassified: held at 内部
    assert not claims.sees_document(_doc(department="承保部"))
    assert not claims.sees_document(_doc(department=None))  # unfiled: unscoped users only
    assert not claims.sees_document(_doc(department="理赔部", doc_type="身份证复印件"))
    assert claims.sees_document(_doc(department="理赔部", doc_type="身份证复印件",
                                     sensitivity="内部"))  # set by hand: wins over the type
    assert top.sees_document(_doc(department=None, sensitivity="机密"))
    assert not claims.sees_record(PaperRecord(record_no="R", department="理赔部",
                                              sensitivity="机密"))
    # A clearance nobody configured opens nothing more than the lowest level.
    assert make_scope([], "绝密", LEVELS, "内部", TYPES).levels == frozenset({"公开"})


def test_a_users_clearance_is_their_roles_highest_unless_set() -> None:
    from papervault.index.accounts.users import scope_of
    from papervault.index.catalog.models import User

    cfg = AccessSettings()
    assert scope_of(User(username="a", roles="officer"), cfg).levels == {"公开", "内部"}
    assert scope_of(User(username="b", roles="officer auditor"), cfg).levels is None
    assert scope_of(User(username="c", roles="auditor", clearance="公开"), cfg).levels == {
        "公开"}


def test_keywords_on_the_first_lines_name_the_type() -> None:
    rules = doctypes.rules_from(ClassifySettings(first_lines=3))
    assert doctypes.classify_text("中国平安 理 赔 申 请 书\n保单号：BD1", rules) == "理赔申请书"
    assert doctypes.classify_text("投保单\n", rules) == "投保单"  # not 保单 inside it
    assert doctypes.classify_text("a\nb\nc\n居民身份证", rules) is None  # below line 3
    assert doctypes.classify_text("", rules) is None


def test_a_lower_source_never_overwrites_a_higher_one() -> None:
    doc = _doc()
    assert doctypes.offer_type(doc, "保单", "record")
    assert not doctypes.offer_type(doc, "投保单", "keywords")
    assert doctypes.offer_type(doc, "投保单", "manual") and doc.doc_type_source == "manual"
    doctypes.offer_level(doc, "机密", LEVELS)
    doctypes.offer_level(doc, "公开", LEVELS)
    assert doc.sensitivity == "机密"
