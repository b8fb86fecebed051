"""Retention (保管期限), Object Lock checks and the disposal workflow (销毁, issue 15)."""

from __future__ import annotations

from papervault.config.catalogue.types import Entry

TEXT: dict[str, Entry] = {
    "locks_reapplied": {
        "zh": "{n} 份原件的对象锁缺失或短于保管期限（文档 {ids}）：已重新加锁（只延长，不缩短）。",
        "en": "{n} originals had a missing or short Object Lock (documents {ids}): re-applied "
              "(extended only, never shortened).",
    },
    "locks_unchecked": {
        "zh": "未检查对象锁：存储桶没有启用对象锁（或 s3.object_lock = \"off\"），"
              "详见 papervault doctor。",
        "en": "Object Locks not checked: the bucket has no Object Lock (or s3.object_lock is "
              "\"off\"); see papervault doctor.",
    },
    "deletion_refused": {
        "zh": "对象存储拒绝删除 {name}（{code}）：仍在保管期限内或处于法律保留。",
        "en": "The object storage refused to delete {name} ({code}): still under retention or "
              "a legal hold.",
    },
    "disposal_refused": {
        "zh": "不能销毁：{detail}",
        "en": "Cannot dispose: {detail}",
    },
    "disposal_not_expired": {
        "zh": "档号 {record} 的原件（文档 {doc}）保管至 {until}，尚未到期，不能销毁。",
        "en": "The original of {record} (document {doc}) is kept until {until}: not expired, "
              "it cannot be destroyed.",
    },
    "disposal_on_hold": {
        "zh": "档号 {record} 的原件（文档 {doc}）为永久保管（法律保留），不能销毁。",
        "en": "The original of {record} (document {doc}) is kept permanently (legal hold): it "
              "cannot be destroyed.",
    },
    "disposal_nothing": {
        "zh": "档号 {record} 没有已存储的电子文件，无需销毁。",
        "en": "{record} has no stored electronic files: there is nothing to destroy.",
    },
    "disposal_batch": {
        "zh": "文档 {doc} 是批量扫描（文档 {parent}）中的一部分：请对整批扫描的档号一并处理。",
        "en": "Document {doc} is part of batch scan {parent}: dispose of the batch's records "
              "together.",
    },
    "disposal_open": {
        "zh": "档号 {record} 已在销毁申请 {id} 中。",
        "en": "{record} is already in disposal {id}.",
    },
    "disposal_state": {
        "zh": "销毁申请 {id} 当前状态为 {state}，不能{action}。",
        "en": "Disposal {id} is {state}: it cannot be {action}.",
    },
    "disposal_same_person": {
        "zh": "销毁申请 {id} 由 {who} 提出，须由另一人（审计员）批准或驳回。",
        "en": "Disposal {id} was proposed by {who}: another person (an auditor) must approve "
              "or reject it.",
    },
    "reason_required": {
        "zh": "请用 --reason 说明原因（记入审计日志）。",
        "en": "Give a reason with --reason (it goes into the audit trail).",
    },
    "remove_compliance": {
        "zh": "对象锁为 COMPLIANCE 模式：保管期限到期前任何人都不能删除原件（文档 {doc}）。",
        "en": "The Object Lock is COMPLIANCE: nobody can delete the original (document {doc}) "
              "before its retain-until date.",
    },
    "disposal_proposed": {
        "zh": "已提出销毁申请 {id}（{n} 份原件），待审计员批准：papervault disposal approve {id}",
        "en": "Disposal {id} proposed ({n} originals), awaiting an auditor: papervault "
              "disposal approve {id}",
    },
    "disposal_decided": {
        "zh": "销毁申请 {id}：{state}",
        "en": "Disposal {id}: {state}",
    },
    "disposal_done": {
        "zh": "销毁申请 {id} 已执行：销毁 {n} 份原件（{versions} 个对象版本）。销毁清册：papervault "
              "disposal export {id}",
        "en": "Disposal {id} done: {n} originals destroyed ({versions} object versions). "
              "Destruction list: papervault disposal export {id}",
    },
    "removed": {
        "zh": "已删除文档 {doc} 的原件及其恢复记录（{versions} 个对象版本），记入审计日志。",
        "en": "Removed the original of document {doc} and its recovery record ({versions} "
              "object versions); audited.",
    },
    # the disposal queue (web)
    "ui_disposal": {"zh": "档案销毁", "en": "Disposal"},
    "ui_disposal_howto": {
        "zh": "档案员用 papervault disposal propose 提出已过保管期限的档号；审计员（另一人）在此批准或驳回；"
              "批准后用 papervault disposal run 执行销毁。",
        "en": "Officers propose expired records with papervault disposal propose; an auditor (a "
              "different person) approves or rejects here; papervault disposal run then "
              "destroys them."},
    "ui_disposal_empty": {"zh": "没有销毁申请。", "en": "No disposal proposals."},
    "ui_disposal_state_proposed": {"zh": "待批准", "en": "Awaiting approval"},
    "ui_disposal_state_approved": {"zh": "已批准", "en": "Approved"},
    "ui_disposal_state_rejected": {"zh": "已驳回", "en": "Rejected"},
    "ui_disposal_state_done": {"zh": "已销毁", "en": "Destroyed"},
    "ui_disposal_state_removed": {"zh": "误扫已删除", "en": "Mis-scan removed"},
    "ui_disposal_proposed_by": {"zh": "{who} 于 {at} 提出", "en": "Proposed by {who} at {at}"},
    "ui_disposal_decided_by": {"zh": "审批人 {who}", "en": "Decided by {who}"},
    "ui_disposal_reason": {"zh": "原因", "en": "Reason"},
    "ui_disposal_title": {"zh": "题名", "en": "Title"},
    "ui_disposal_client": {"zh": "客户编号", "en": "Client"},
    "ui_disposal_until": {"zh": "保管至", "en": "Kept until"},
    "ui_disposal_csv": {"zh": "销毁清册（CSV）", "en": "Destruction list (CSV)"},
    "ui_disposal_approve": {"zh": "批准销毁", "en": "Approve"},
    "ui_disposal_reject": {"zh": "驳回", "en": "Reject"},
    "ui_disposal_reject_reason": {"zh": "驳回原因", "en": "Reason for rejecting"},
    "flash_disposal_decided": {"zh": "销毁申请 {id}：{state}", "en": "Disposal {id}: {state}"},
}
