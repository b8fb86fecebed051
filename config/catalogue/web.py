"""Page frame, navigation, flash messages and error pages."""

from __future__ import annotations

from papervault.config.catalogue.types import Entry

TEXT: dict[str, Entry] = {
    "ui_skip_to_content": {"zh": "跳到正文", "en": "Skip to content"},
    "ui_menu": {"zh": "菜单", "en": "Menu"},
    "ui_close": {"zh": "关闭", "en": "Close"},
    "ui_home": {"zh": "首页", "en": "Home"},
    "ui_error_404": {"zh": "页面不存在", "en": "Page not found"},
    "ui_error_404_text": {"zh": "找不到这个地址：{path}。请从菜单重新进入。",
                          "en": "There is nothing at {path}. Use the menu to go on."},
    "ui_error_405": {"zh": "不支持的操作", "en": "Not allowed here"},
    "ui_error_405_text": {"zh": "这个地址不接受此类请求。请从页面上的按钮操作。",
                          "en": "This address does not take that kind of request. Use the buttons on the page."},
    "ui_error_422": {"zh": "输入有误", "en": "Invalid input"},
    "ui_error_422_text": {"zh": "以下内容需要修改：{fields}", "en": "Please correct: {fields}"},
    "ui_error_403": {"zh": "无权访问", "en": "Not permitted"},
    # The 422 page names what to correct by these labels, not by parameter names (B13).
    "ui_field_doc_id": {"zh": "文档编号", "en": "document number"},
    "ui_field_page_no": {"zh": "页码", "en": "page number"},
    "ui_field_page": {"zh": "页码", "en": "page number"},
    "ui_field_w": {"zh": "图片宽度", "en": "image width"},
    "ui_field_year": {"zh": "年度", "en": "year"},
    "ui_field_limit": {"zh": "条数", "en": "number of rows"},
    "ui_field_offset": {"zh": "起始位置", "en": "start position"},
    "ui_field_username": {"zh": "用户名", "en": "user name"},
    "ui_field_password": {"zh": "密码", "en": "password"},
    "ui_field_fraction": {"zh": "抽检比例", "en": "sample fraction"},
    "ui_field_reason": {"zh": "原因", "en": "reason"},
    "ui_field_kind": {"zh": "登记类型", "en": "register type"},
    "ui_field_file": {"zh": "文件", "en": "file"},
    "ui_field_other": {"zh": "其他输入项", "en": "another field"},
    # No permission or role codes on the page (B13): those are in the audit trail.
    "ui_error_403_text": {"zh": "您的角色（{roles}）不能使用此页面或操作。如工作需要，请联系管理员。",
                          "en": "Your roles ({roles}) do not include this page or action. "
                                "Ask an administrator if your work needs it."},
    "ui_error_401": {"zh": "请先登录", "en": "Please sign in"},
    "ui_error_429": {"zh": "请求过于频繁", "en": "Too many attempts"},
    "ui_error_500": {"zh": "系统出错", "en": "Something went wrong"},
    "ui_error_back": {"zh": "返回上一页", "en": "Back"},
    "flash_token_revoked": {"zh": "令牌已撤销。", "en": "The token was revoked."},
    "flash_qa_pass": {"zh": "已记录：合格。", "en": "Recorded: passed."},
    "flash_qa_fail": {"zh": "已记录：不合格，相关档案已重新标记。", "en": "Recorded: failed; the record is flagged again."},
    "ui_time_zone_note": {"zh": "时间为 {zone} 时间", "en": "Times are {zone}"},
}
