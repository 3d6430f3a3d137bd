def on_this_site(target: str) -> bool:
    """Whether `target` (a sign-in page's `next`) is a path on this site: one pointing elsewhere
    would make the sign-in page a redirector to any site (an open redirect phishers use)."""
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return local and not (parts.scheme or parts.netloc)
