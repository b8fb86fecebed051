"""One catalogue for every sentence a person reads: zh-CN first, English beside it.

Keys are stable identifiers; the quarantine files, the CLI and the web UI all look
their text up here so the two languages never drift apart.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

CATALOGUE: dict[str, dict[Lang, str]] = {
    # -- why a dropped file was quarantined -------------------------------------------
    "empty_file": {
        "zh": "文件为空（0 字节）：请重新扫描后再放入。",
        "en": "The file is empty (0 bytes): scan it again and drop the new file.",
    },
    "unsupported_type": {
        "zh": "不支持的文件类型（{kind}）：请导出为 PDF、TIFF、JPEG 或 PNG 后再放入。",
        "en": "Unsupported file type ({kind}): save it as PDF, TIFF, JPEG or PNG and drop it again.",
    },
    "pdf_encrypted": {
        "zh": "PDF 设有密码保护：请去除密码后再放入。",
        "en": "The PDF is password-protected: remove the password and drop it again.",
    },
    "pdf_damaged": {
        # The detail is qpdf's English: for the administrator's log and the English text
        # only; a clerk's Chinese sentence stays in one language (B13).
        "zh": "PDF 文件已损坏，无法打开：请重新扫描或重新导出。",
        "en": "The PDF is damaged and cannot be opened ({detail}): scan or export it again.",
    },
    "image_damaged": {
        "zh": "图像文件已损坏，无法读取：请重新扫描。",
        "en": "The image is damaged and cannot be read ({detail}): scan it again.",
    },
    "too_many_pages": {
        "zh": "页数过多（{pages} 页，上限 {limit} 页）：请分成多个文件扫描。",
        "en": "Too many pages ({pages}, the limit is {limit}): split the scan into several files.",
    },
    "too_many_pixels": {
        "zh": "图像过大（{pixels} 像素，上限 {limit}）：请用较低分辨率（300 dpi）重新扫描。",
        "en": "The image is too large ({pixels} pixels, limit {limit}): rescan at 300 dpi.",
    },
    "page_too_large": {
        "zh": "第 {page} 页尺寸过大（{width}×{height} 点）：请检查扫描设置。",
        "en": "Page {page} is too large ({width}×{height} pt): check the scanner settings.",
    },
    "page_content_too_large": {
        "zh": "第 {page} 页的内容解压后超过 {limit} MB，不像扫描件（可能已损坏或被刻意构造）：请重新扫描纸质文件后放入。",
        "en": "Page {page}'s content expands to more than {limit} MB, which no scan does (damaged or built to overload the archive): scan the paper again.",
    },
    "content_too_large": {
        "zh": "文件各页内容解压后共超过 {limit} MB，不像扫描件：请分成多个文件或重新扫描。",
        "en": "The pages' content expands to more than {limit} MB in all, which no scan does: split the file or scan the paper again.",
    },
    "too_small": {
        "zh": "图像太小（{width}×{height} 像素），无法识别：请重新扫描。",
        "en": "The image is too small ({width}×{height} pixels) to read: scan it again.",
    },
    "file_too_large": {
        "zh": "文件过大（{size} MB，上限 {limit} MB）：请分成多个文件扫描。",
        "en": "The file is too large ({size} MB, limit {limit} MB): split the scan into several files.",
    },
    "not_a_regular_file": {
        "zh": "这不是普通文件（{kind}）：请只放入扫描文件。",
        "en": "This is not a regular file ({kind}): drop only scanned files.",
    },
    "outside_inbox": {
        "zh": "此文件不在收件文件夹内，未处理：请把扫描件放入收件文件夹。",
        "en": "This file is not inside the inbox and was not touched: drop scans into the inbox.",
    },
    "unreadable": {
        "zh": "没有读取此文件的权限：请检查共享文件夹的权限设置。",
        "en": "No permission to read this file: check the shared folder's permissions.",
    },
    "ocr_failed": {
        "zh": "文字识别失败（{detail}）：原件已安全保存，请联系管理员。",
        "en": "Text recognition failed ({detail}): the original is stored safely; tell the administrator.",
    },
    # -- one page of a stored document could not be read (issue 11) -----------------------
    "page_unrenderable": {
        "zh": "第 {page} 页无法转换为图像（该页内容损坏或格式异常）：原件已安全保存，请重新扫描该页。",
        "en": "Page {page} cannot be turned into an image (its content is damaged or unusual): "
              "the original is stored safely; rescan this page.",
    },
    "page_too_many_pixels": {
        "zh": "第 {page} 页尺寸异常，按 {dpi} dpi 转换后图像过大（{pixels} 像素，上限 {limit}）："
              "请检查扫描设置后重新扫描该页。",
        "en": "Page {page} has an abnormal size: at {dpi} dpi it would be {pixels} pixels "
              "(limit {limit}); check the scanner settings and rescan this page.",
    },
    "page_image_too_large": {
        "zh": "第 {page} 页图像过大（{width}×{height} 像素），文字识别程序无法处理：请以 300 dpi 重新扫描该页。",
        "en": "Page {page} is too large for text recognition ({width}×{height} pixels): "
              "rescan it at 300 dpi.",
    },
    "page_ocr_refused": {
        "zh": "第 {page} 页的图像无法进行文字识别：原件已安全保存，请重新扫描该页；如仍失败请联系管理员。",
        "en": "Text recognition cannot process the image of page {page}: the original is "
              "stored safely; rescan this page, and tell the administrator if it fails again.",
    },
    "page_timeout": {
        "zh": "第 {page} 页在 {seconds} 秒内未处理完，已跳过：该页内容过于复杂，请重新扫描该页。",
        "en": "Page {page} was not finished within {seconds} seconds and was skipped: its "
              "content is too complex; rescan this page.",
    },
    "page_out_of_memory": {
        "zh": "第 {page} 页处理所需内存超过上限，已跳过：请以较低分辨率（300 dpi）重新扫描该页。",
        "en": "Page {page} needed more memory than allowed and was skipped: rescan it at a "
              "lower resolution (300 dpi).",
    },
    "page_crashed": {
        "zh": "第 {page} 页两次导致文字识别意外中断，已跳过：原件已安全保存，请重新扫描该页或联系管理员。",
        "en": "Page {page} stopped text recognition twice and was skipped: the original is "
              "stored safely; rescan this page or tell the administrator.",
    },
    "page_internal": {
        "zh": "第 {page} 页文字识别时出现内部错误（已记入日志）：原件已安全保存，请联系管理员。",
        "en": "An internal error stopped text recognition of page {page} (it is in the log): "
              "the original is stored safely; tell the administrator.",
    },
    "ocr_internal": {
        "zh": "文字识别时出现内部错误（已记入日志）：原件已安全保存，请联系管理员。",
        "en": "An internal error stopped text recognition (it is in the log): the original "
              "is stored safely; tell the administrator.",
    },
    "ocr_queue_left": {
        "zh": "仍有 {count} 个识别任务排队等待稍后重试（最早于 {when} UTC）：届时再运行 "
              "papervault worker --drain，或用 papervault ocr retry 立即重试。",
        "en": "{count} OCR jobs are still queued for a later retry (the first at {when} UTC): "
              "run papervault worker --drain again then, or papervault ocr retry now.",
    },
    "ocr_requeued": {
        "zh": "已重新排队 {count} 个识别任务。",
        "en": "{count} OCR jobs queued again.",
    },
    # -- operational errors --------------------------------------------------------------
    "storage_unavailable": {
        "zh": "对象存储暂时无法连接（{detail}）：文件保留在原处，稍后自动重试。",
        "en": "Object storage is unreachable ({detail}): the file stays where it is and is retried.",
    },
    "register_empty": {
        "zh": "纸质档案登记簿为空：先用 papervault paper import 导入，覆盖率才有意义。",
        "en": "The paper register is empty: import it with papervault paper import first; "
              "until then coverage means nothing.",
    },
    "audit_broken": {
        "zh": "审计日志被改动过：{detail}。请保持数据库现状并通知审计员。",
        "en": "The audit trail was altered: {detail}. Leave the database as it is and tell "
              "the auditors.",
    },
    "records_rewritten": {
        "zh": "{n} 份原件的恢复记录缺失或与索引不符，已按索引重写。",
        "en": "{n} originals had a missing or wrong recovery record; rewritten from the index.",
    },
    "relinked": {
        "zh": "已重新关联 {changed} 份文档（检查了 {checked} 份提及这些编号的文档）",
        "en": "Re-linked {changed} documents (checked {checked} that mention these IDs)",
    },
    "searchable_regenerating": {
        "zh": "{n} 份可检索 PDF 缺失或损坏（文档 {ids}）：原件完好，已重新排队识别以重新生成。",
        "en": "{n} searchable PDFs were missing or damaged (documents {ids}): the originals "
              "are intact and OCR was queued to rebuild them.",
    },
    "download_empty": {
        "zh": "存储副本为空或无法读取（{name}）：请运行 papervault verify 并通知管理员。",
        "en": "The stored copy is empty or unreadable ({name}): run papervault verify and "
              "tell the administrator.",
    },
    "integrity_mismatch": {
        "zh": "存储副本校验失败：{detail}",
        "en": "The stored copy failed its checksum: {detail}",
    },
    "wrong_key": {
        "zh": "无法解密：主密钥与加密时使用的密钥不符（密钥编号 {key_id}）。请检查密钥文件。",
        "en": "Cannot decrypt: the master key does not match the one used (key id {key_id}). "
        "Check the key file.",
    },
    "no_master_key": {
        "zh": "找不到主密钥：请设置 crypto.master_key_file 或环境变量 PAPERVAULT_MASTER_KEY。",
        "en": "No master key: set crypto.master_key_file or the PAPERVAULT_MASTER_KEY variable.",
    },
    "mode_fixed": {
        "zh": "{path} 曾可被其他用户访问，已改为仅本账户可访问。",
        "en": "{path} was open to other accounts; it is now readable by its owner only.",
    },
    "mode_open": {
        "zh": "{path} 可被其他用户访问且无法修改：请以其所有者身份执行 chmod go-rwx 后重试。",
        "en": "{path} is open to other accounts and cannot be changed: run chmod go-rwx on it as its owner and retry.",
    },
    "key_file_open": {
        "zh": "主密钥文件 {path} 可被其他用户读取：请执行 chmod 600 后重试。",
        "en": "The master key file {path} is readable by others: run chmod 600 on it and retry.",
    },
    "config_invalid": {
        "zh": "配置文件有误：{detail}",
        "en": "The configuration is invalid: {detail}",
    },
    "missing_dependency": {
        "zh": "缺少依赖：{detail}。请运行 scripts/setup.sh。",
        "en": "Missing dependency: {detail}. Run scripts/setup.sh.",
    },
    "database_unavailable": {
        "zh": "数据库暂时无法访问（{detail}）：稍后自动重试。",
        "en": "The database is unavailable ({detail}): retried automatically.",
    },
    "not_found": {
        "zh": "找不到：{what}",
        "en": "Not found: {what}",
    },
    "bad_input": {
        "zh": "输入有误：{detail}",
        "en": "Invalid input: {detail}",
    },
    "link_mismatch": {
        "zh": "档号 {record_no} 在纸质档案登记中属于客户 {owner}，不是 {client_id}：请核对档号或客户编号"
        "（只填 --record 时自动采用档案登记的客户）。",
        "en": "Paper record {record_no} belongs to client {owner} in the register, not "
        "{client_id}: check the 档号 or the client ID (give --record alone to take the "
        "register's client).",
    },
    "link_needs_target": {
        "zh": "请指定客户编号或档号（或两者）。",
        "en": "Give a client ID or a 档号 (or both).",
    },
    "file_vanished": {
        "zh": "文件在存档完成前已从收件箱删除：未存档任何内容，也未隔离。如需存档，请重新放入。",
        "en": "The file was removed from the inbox before it was stored: nothing was archived "
        "or quarantined. Drop it again if it should be kept.",
    },
    "disk_full": {
        "zh": "暂存区磁盘已满：文件保留在原处，腾出空间后自动继续。",
        "en": "The staging disk is full: the file stays where it is and processing resumes "
        "when space is freed.",
    },
    # -- search, document view and download (issue 3) ---------------------------------
    "search_found": {
        "zh": "共 {total} 条结果（第 {page}/{pages} 页）",
        "en": "{total} results (page {page} of {pages})",
    },
    "text_truncated": {
        "zh": "（文字较长，已截断；用 --full 显示全部）",
        "en": "(text truncated; --full prints all of it)",
    },
    "web_bind_failed": {
        "zh": "网页界面无法在 {host}:{port} 上监听（端口已被占用？）：papervault 已停止，请释放端口或修改 web.port 后重新启动。",
        "en": "The web UI cannot listen on {host}:{port} (is the port taken?): papervault "
              "stopped; free the port or change web.port, then start it again.",
    },
    "web_loopback_only": {
        "zh": "未开启登录（access.login = false）时网页界面只能绑定本机地址（当前 web.host = {host}）：请开启登录或把 web.host 设为 127.0.0.1。",
        "en": "With login off (access.login = false) the web UI binds to loopback only (web.host = {host}): turn login on or set web.host = 127.0.0.1.",
    },
    # -- access control (issue 5) ---------------------------------------------------------
    "login_required": {
        "zh": "请先登录（会话已过期或令牌无效）。",
        "en": "Please sign in (the session has expired or the token is not valid).",
    },
    "forbidden": {
        "zh": "用户 {user} 的角色（{roles}）无权执行此操作（需要权限：{perm}）：请联系管理员。",
        "en": "User {user} (roles: {roles}) may not do this (it needs: {perm}): ask an administrator.",
    },
    "unknown_local_user": {
        "zh": "本机用户 {user} 不是 papervault 用户或已停用：请管理员执行 papervault users add {user} --role …，或设置 PAPERVAULT_ACTOR。",
        "en": "The local user {user} is not an active papervault user: ask an administrator to run papervault users add {user} --role …, or set PAPERVAULT_ACTOR.",
    },
    "current_password_wrong": {
        "zh": "当前密码不正确。",
        "en": "The current password is wrong.",
    },
    "password_same": {
        "zh": "新密码不能与当前密码相同。",
        "en": "The new password must differ from the current one.",
    },
    "notice_password_changed": {
        "zh": "密码已修改。",
        "en": "Your password has been changed.",
    },
    "login_failed": {
        "zh": "用户名或密码错误。",
        "en": "Wrong user name or password.",
    },
    "account_locked": {
        "zh": "登录失败次数过多，账户已锁定至 {until}（UTC）：请稍后再试或联系管理员解锁。",
        "en": "Too many failed sign-ins: the account is locked until {until} UTC. Try later or ask an administrator to unlock it.",
    },
    "address_throttled": {
        "zh": "此地址登录失败次数过多，请 {minutes} 分钟后再试；如有疑问请联系管理员。",
        "en": "Too many failed sign-ins from this address: try again in {minutes} minutes, or ask an administrator.",
    },
    "password_weak": {
        "zh": "密码太短或太简单：至少 {min} 个字符，且不能与用户名相同。",
        "en": "The password is too short or too simple: at least {min} characters, and not the user name.",
    },
    "password_mismatch": {
        "zh": "两次输入的新密码不一致。",
        "en": "The two new passwords differ.",
    },
    "password_must_change": {
        "zh": "首次登录或密码已被重置：请先设置新密码。",
        "en": "First sign-in or the password was reset: set a new password first.",
    },
    "csrf_failed": {
        "zh": "表单已过期或来源不明（CSRF 校验失败）：请刷新页面后重试。",
        "en": "The form has expired or did not come from this site (CSRF check failed): reload the page and try again.",
    },
    "user_exists": {
        "zh": "用户 {user} 已存在。",
        "en": "User {user} already exists.",
    },
    "last_admin": {
        "zh": "不能停用或降级最后一位管理员。",
        "en": "The last administrator cannot be disabled or lose the admin role.",
    },
    "ui_login": {"zh": "登录", "en": "Sign in"},
    "ui_logout": {"zh": "退出", "en": "Sign out"},
    "ui_username": {"zh": "用户名", "en": "User name"},
    "ui_password": {"zh": "密码", "en": "Password"},
    "ui_new_password": {"zh": "新密码", "en": "New password"},
    "ui_repeat_password": {"zh": "再次输入新密码", "en": "Repeat the new password"},
    "ui_current_password": {"zh": "当前密码", "en": "Current password"},
    "ui_change_password": {"zh": "修改密码", "en": "Change password"},
    "ui_account": {"zh": "我的账户", "en": "My account"},
    "ui_tokens": {"zh": "API 令牌", "en": "API tokens"},
    "ui_token_name": {"zh": "令牌用途", "en": "What the token is for"},
    "ui_token_create": {"zh": "创建令牌", "en": "Create token"},
    "ui_token_once": {"zh": "请立即复制此令牌，它只显示这一次：", "en": "Copy this token now; it is shown only once:"},
    "ui_revoke": {"zh": "吊销", "en": "Revoke"},
    "ui_users": {"zh": "用户管理", "en": "Users"},
    "ui_roles": {"zh": "角色", "en": "Roles"},
    "ui_role_scanner": {"zh": "扫描员", "en": "Scanning staff"},
    "ui_role_officer": {"zh": "档案员", "en": "Records officer"},
    "ui_role_auditor": {"zh": "审计员", "en": "Auditor"},
    "ui_role_admin": {"zh": "管理员", "en": "Administrator"},
    "ui_add_user": {"zh": "添加用户", "en": "Add user"},
    "ui_display_name": {"zh": "姓名", "en": "Full name"},
    "ui_active": {"zh": "启用", "en": "Active"},
    "ui_disable": {"zh": "停用", "en": "Disable"},
    "ui_enable": {"zh": "启用", "en": "Enable"},
    "ui_unlock": {"zh": "解锁", "en": "Unlock"},
    "ui_reset_password": {"zh": "重置密码", "en": "Reset password"},
    "ui_one_time_password": {"zh": "一次性密码（用户首次登录时须修改）：", "en": "One-time password (the user must change it at first sign-in):"},
    "ui_locked": {"zh": "已锁定", "en": "Locked"},
    "ui_last_login": {"zh": "上次登录", "en": "Last sign-in"},
    "ui_save": {"zh": "保存", "en": "Save"},
    "ui_audit": {"zh": "审计日志", "en": "Audit trail"},
    "ui_audit_actor": {"zh": "操作人", "en": "Who"},
    "ui_audit_action": {"zh": "操作", "en": "Action"},
    "ui_audit_target": {"zh": "对象", "en": "Target"},
    "ui_audit_origin": {"zh": "来源", "en": "From"},
    "ui_audit_at": {"zh": "时间（UTC）", "en": "When (UTC)"},
    "ui_audit_client": {"zh": "客户号（查看其档案的所有访问）", "en": "Client ID (every access to their files)"},
    "ui_filter": {"zh": "筛选", "en": "Filter"},
    "ui_export_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "ui_status": {"zh": "处理状态", "en": "Processing status"},
    "ui_qa_review": {"zh": "逐份抽检", "en": "Review the sample"},
    "ui_qa_howto": {"zh": "对照纸质原件核对每份抽检扫描件：清晰、完整、页数一致则“合格”，否则填写原因后“不合格”（该档案将重新计为未备份，直至重新扫描）。", "en": "Compare each sampled scan with its paper file: legible, complete and the same page count is a pass; otherwise give the reason and fail it (the record counts as not backed up until it is re-scanned)."},
    "ui_qa_reason": {"zh": "不合格原因", "en": "Reason for a fail"},
    "ui_qa_pass": {"zh": "合格", "en": "Pass"},
    "ui_qa_fail": {"zh": "不合格", "en": "Fail"},
    "ui_title": {"zh": "档案检索", "en": "Archive search"},
    "ui_nav_search": {"zh": "检索", "en": "Search"},
    "ui_nav_coverage": {"zh": "覆盖率核查", "en": "Coverage"},
    "ui_search_placeholder": {
        "zh": "输入词语、客户编号或档号，例如：保单、KH-2024-000123 理赔",
        "en": "Words, client ID or 档号, e.g. 保单, KH-2024-000123 理赔",
    },
    "ui_search_button": {"zh": "搜索", "en": "Search"},
    "ui_filters": {"zh": "筛选条件", "en": "Filters"},
    "ui_client_id": {"zh": "客户编号", "en": "Client ID"},
    "ui_record_no": {"zh": "档号", "en": "Record no. (档号)"},
    "ui_department": {"zh": "部门", "en": "Department"},
    "ui_doc_type": {"zh": "文件类型", "en": "Document type"},
    "ui_link_state": {"zh": "关联状态", "en": "Link state"},
    "ui_doc_date": {"zh": "文件日期", "en": "Document date"},
    "ui_ingested": {"zh": "入库日期", "en": "Ingested"},
    "ui_from": {"zh": "从", "en": "from"},
    "ui_to": {"zh": "至", "en": "to"},
    "ui_any": {"zh": "全部", "en": "any"},
    "ui_no_results": {"zh": "没有找到结果。请换个词语或减少筛选条件。", "en": "Nothing found. Try other words or fewer filters."},
    "ui_prev": {"zh": "上一页", "en": "Previous"},
    "ui_next": {"zh": "下一页", "en": "Next"},
    "ui_page_no": {"zh": "第 {n} 页", "en": "page {n}"},
    "ui_download_original": {"zh": "下载原件", "en": "Download original"},
    "ui_download_searchable": {"zh": "下载可检索 PDF", "en": "Download searchable PDF"},
    "ui_metadata": {"zh": "基本信息", "en": "Details"},
    "ui_ocr_text": {"zh": "识别文字", "en": "OCR text"},
    "ui_pages": {"zh": "页面", "en": "Pages"},
    "ui_documents": {"zh": "电子文件", "en": "Documents"},
    "ui_paper_records": {"zh": "纸质档案", "en": "Paper records"},
    "ui_client": {"zh": "客户", "en": "Client"},
    "ui_name": {"zh": "姓名", "en": "Name"},
    "ui_filename": {"zh": "文件名", "en": "File name"},
    "ui_page_count": {"zh": "页数", "en": "Pages"},
    "ui_state": {"zh": "状态", "en": "State"},
    "ui_size": {"zh": "大小（字节）", "en": "Size (bytes)"},
    "ui_title_col": {"zh": "题名", "en": "Title"},
    "ui_year": {"zh": "年度", "en": "Year"},
    "ui_location": {"zh": "存放位置", "en": "Location"},
    "ui_actor": {"zh": "当前用户", "en": "Signed in as"},
    "ui_other_language": {"zh": "English", "en": "中文"},
    "ui_error": {"zh": "出错了", "en": "Something went wrong"},
    "ui_not_ocr_yet": {"zh": "尚未完成文字识别。", "en": "OCR has not finished yet."},
    "ui_link_pending": {"zh": "待识别", "en": "Waiting for OCR"},
    "ui_link_linked": {"zh": "已关联", "en": "Linked"},
    "ui_link_unlinked": {"zh": "未关联", "en": "Not linked"},
    "ui_link_ambiguous": {"zh": "待核实", "en": "Needs review"},
    "ui_policies": {"zh": "保单号", "en": "Policies"},
    # -- paper register, verification, coverage and spot checks (issue 4) ---------------
    "register_rejected": {
        "zh": "{name} 有 {count} 处错误，未导入任何记录：{detail}",
        "en": "{name} has {count} error(s); nothing was imported: {detail}",
    },
    "paper_imported": {
        "zh": "已导入纸质档案：新增 {added} 条，更新 {updated} 条",
        "en": "Paper records imported: {added} added, {updated} updated",
    },
    "verify_done": {
        "zh": "校验完成：共 {checked} 个，通过 {ok} 个，失败 {failed} 个",
        "en": "Verification done: {checked} checked, {ok} ok, {failed} failed",
    },
    "verify_failures": {
        "zh": "有 {failed} 个存储副本校验失败：请从纸质原件重新扫描（见 papervault coverage）。",
        "en": "{failed} stored copies failed verification: rescan them from paper (see papervault coverage).",
    },
    "coverage_below": {
        "zh": "备份覆盖率 {percent}% 低于要求的 {threshold}%。",
        "en": "Backup coverage {percent}% is below the required {threshold}%.",
    },
    "coversheets_written": {
        "zh": "已生成 {count} 张封面页：{path}",
        "en": "{count} cover sheets written to {path}",
    },
    "qa_sampled": {
        "zh": "已抽取 {count} 份文件待人工抽检（共 {population} 份新文件）。",
        "en": "{count} documents drawn for the spot check (of {population} new documents).",
    },
    "qa_reason_needed": {
        "zh": "判定不合格时请用 --reason 写明原因（例如：第 3 页模糊）。",
        "en": "A failed check needs --reason (e.g. 'page 3 blurred').",
    },
    "ui_cov_title": {"zh": "备份覆盖率核查", "en": "Backup coverage audit"},
    "ui_cov_total": {"zh": "纸质档案总数", "en": "Paper records"},
    "ui_cov_verified": {"zh": "已校验备份", "en": "Verified backup"},
    "ui_cov_stored": {"zh": "已存储待校验", "en": "Stored, not verified"},
    "ui_cov_none": {"zh": "未扫描", "en": "No scan"},
    "ui_cov_review": {"zh": "已扫描，待核实", "en": "Scanned, awaiting review"},
    "ui_cov_failed": {"zh": "校验失败", "en": "Failed"},
    "ui_cov_percent": {"zh": "覆盖率", "en": "Coverage"},
    "ui_st_documents": {"zh": "文档", "en": "documents"},
    "ui_st_intake": {"zh": "入库记录", "en": "intake"},
    "ui_st_queue": {"zh": "待识别队列", "en": "OCR queue"},
    "ui_st_last_errors": {"zh": "最近的问题", "en": "Recent problems"},
    "ui_st_stored": {"zh": "已存储", "en": "stored"},
    "ui_st_indexed": {"zh": "已识别入索引", "en": "indexed"},
    "ui_st_ocr_failed": {"zh": "识别失败", "en": "OCR failed"},
    "ui_st_partly_read": {"zh": "部分识别", "en": "partly read"},
    "ui_st_ocr_failures": {"zh": "文字识别问题", "en": "Text recognition problems"},
    "ui_st_duplicate": {"zh": "重复文件", "en": "duplicate"},
    "ui_st_quarantined": {"zh": "已隔离", "en": "quarantined"},
    "ui_st_retry": {"zh": "待重试", "en": "retrying"},
    "ui_st_vanished": {"zh": "处理前被删除", "en": "removed before storing"},
    "ui_cov_by_department": {"zh": "按部门", "en": "By department"},
    "ui_cov_by_year": {"zh": "按年度", "en": "By year"},
    "ui_cov_flagged": {"zh": "需处理的档案", "en": "Flagged records"},
    "ui_cov_reason": {"zh": "原因", "en": "Reason"},
    "ui_cov_export": {"zh": "导出 CSV", "en": "Export CSV"},
    "ui_cov_coversheets": {"zh": "打印封面页（PDF）", "en": "Print cover sheets (PDF)"},
    "ui_cov_filter": {"zh": "筛选", "en": "Filter"},
    "ui_cov_none_flagged": {"zh": "所有档案均已校验备份。", "en": "Every record has a verified backup."},
    "ui_cov_more": {"zh": "仅显示前 {n} 条，完整列表请导出 CSV。", "en": "First {n} shown; export the CSV for all."},
    "ui_cov_warnings": {"zh": "扫描质量提示", "en": "Scan quality warnings"},
    "ui_cov_qa": {"zh": "人工抽检", "en": "Spot checks"},
    "ui_cov_pass_rate": {"zh": "合格率", "en": "Pass rate"},
    "ui_link_split": {"zh": "已按封面页拆分", "en": "split at cover sheets"},
    "warn_blank_page": {"zh": "第 {page} 页为空白页", "en": "page {page} is blank"},
    "warn_low_confidence": {"zh": "第 {page} 页识别可信度低（{value}）", "en": "page {page}: low OCR confidence ({value})"},
    "warn_low_dpi": {"zh": "第 {page} 页分辨率 {value} dpi，低于 {limit} dpi", "en": "page {page}: {value} dpi, below {limit} dpi"},
    "warn_page_count": {"zh": "页数 {value} 与登记的 {expected} 页不符", "en": "{value} pages, the register expects {expected}"},
    "warn_before_first_sheet": {"zh": "第 {page} 页在第一张封面页之前，未归入任何档案", "en": "page {page} comes before the first cover sheet and belongs to no record"},
    "warn_empty_part": {"zh": "封面页 {record_no} 后没有页面", "en": "no pages follow the cover sheet of {record_no}"},
}


def _merge_areas() -> None:
    """Add each ``config.catalogue`` module's ``TEXT``; a key defined twice is a bug."""
    import importlib
    import pkgutil

    from papervault.config import catalogue

    for info in sorted(pkgutil.iter_modules(catalogue.__path__), key=lambda m: m.name):
        if info.name == "types":
            continue
        area = importlib.import_module(f"{catalogue.__name__}.{info.name}")
        extra: dict[str, dict[Lang, str]] = area.TEXT
        twice = CATALOGUE.keys() & extra.keys()
        if twice:
            raise RuntimeError(f"catalogue keys defined twice ({info.name}): {sorted(twice)}")
        CATALOGUE.update(extra)


_merge_areas()


def text(key: str, lang: Lang = "zh", **params: object) -> str:
    """Return the catalogue sentence for ``key`` in ``lang`` with ``params`` filled in."""
    entry = CATALOGUE[key]
    return entry[lang].format(**params)


def pair(key: str, **params: object) -> str:
    """Chinese, then English, in one line: how status lists show a reason."""
    return f"{text(key, 'zh', **params)} / {text(key, 'en', **params)}"


def both(key: str, **params: object) -> dict[str, str]:
    """Return ``{"zh": ..., "en": ...}`` for files a clerk and an administrator both read."""
    return {lang: text(key, lang, **params) for lang in ("zh", "en")}
