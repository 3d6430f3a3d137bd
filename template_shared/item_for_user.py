# The user's is_active, with the item they may see (None where it is missing or another
# user's). Built once with bound parameters, not on every request: building the statement,
# which SQLAlchemy then looks up in its cache of compiled ones, cost most of what the join did.
ITEM_FOR_USER = (
    select(User.is_active, Item)
    .select_from(User)
    .outerjoin(
        Item,
        and_(Item.id == bindparam("item_id"), or_(User.is_admin, Item.owner_id == User.id)),
    )
    .where(User.id == bindparam("user_id"))
)
