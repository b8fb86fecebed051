"""Tiered access and complete client files (issue 18): scopes on the users page, the
client page's checklist, completeness by department, classifying a document by hand."""

from __future__ import annotations

from papervault.config.catalogue.types import Entry

TEXT: dict[str, Entry] = {
    # users page
    "ui_ti_scope": {"zh": "部门与密级", "en": "Departments and clearance"},
    "ui_ti_departments": {"zh": "部门", "en": "Departments"},
    "ui_ti_departments_hint": {"zh": "用逗号或顿号分隔；留空表示全部部门。",
                               "en": "Separate with commas; empty means every department."},
    "ui_ti_every_department": {"zh": "全部部门", "en": "Every department"},
    "ui_ti_clearance": {"zh": "密级", "en": "Clearance"},
    "ui_ti_by_roles": {"zh": "按角色（{level}）", "en": "By roles ({level})"},
    "ui_ti_roles_default": {"zh": "按角色", "en": "By roles"},
    "flash_user_scope": {"zh": "已保存 {who} 的部门与密级。",
                         "en": "Departments and clearance of {who} saved."},
    # client page
    "ui_ti_checklist": {"zh": "资料完整性", "en": "File completeness"},
    "ui_ti_checklist_none": {"zh": "此客户所属部门没有配置必备文件清单。",
                             "en": "No checklist is configured for this client's department."},
    "ui_ti_client_file": {"zh": "客户档案", "en": "Client file"},
    "ui_ti_record_file": {"zh": "纸质档案 {key}", "en": "Paper record {key}"},
    "ui_ti_present": {"zh": "已有（已核验）", "en": "Present (verified)"},
    "ui_ti_unverified": {"zh": "已存储，未核验", "en": "Stored, not yet verified"},
    "ui_ti_missing": {"zh": "缺失", "en": "Missing"},
    "ui_ti_stale": {"zh": "过期", "en": "Stale"},
    "ui_ti_stale_register": {"zh": "登记信息超过期限未确认", "en": "Register row not confirmed lately"},
    "ui_ti_stale_documents": {"zh": "最新文件已过期限", "en": "Newest document is old"},
    "ui_ti_complete": {"zh": "齐全", "en": "Complete"},
    "ui_ti_incomplete": {"zh": "不齐全", "en": "Incomplete"},
    # dashboard
    "ui_ti_by_department": {"zh": "按部门的资料完整性", "en": "Completeness by department"},
    "ui_ti_files": {"zh": "客户档案数", "en": "Client files"},
    "ui_ti_complete_files": {"zh": "齐全", "en": "Complete"},
    "ui_ti_missing_types": {"zh": "缺失文件类型（合计）", "en": "Missing types (total)"},
    "ui_ti_stale_files": {"zh": "过期档案", "en": "Stale files"},
    "ui_ti_percent": {"zh": "齐全率", "en": "Complete %"},
    "ui_ti_no_checklists": {"zh": "还没有可核对的客户档案。",
                            "en": "No client file has a checklist yet."},
    # document page
    "ui_ti_classify": {"zh": "分类", "en": "Classify"},
    "ui_ti_unclassified": {"zh": "未分类", "en": "Unclassified"},
    "ui_ti_no_department": {"zh": "未定部门", "en": "No department"},
    "ui_ti_level": {"zh": "密级", "en": "Level"},
    "ui_ti_keep": {"zh": "（不变）", "en": "(unchanged)"},
    "flash_doc_classified": {"zh": "已保存文件 #{id} 的分类。",
                             "en": "Classification of document #{id} saved."},
}
