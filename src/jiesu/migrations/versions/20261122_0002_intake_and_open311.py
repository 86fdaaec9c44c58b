"""intake and open311

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

idempotency_key (no loss, no doubles), open311_client (api_keys, hashed), service_attribute
(per-category questions, with a few defaults), open311_request (what an Open311 submission
carries beyond the case).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import jiesu.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# Default questions for a few categories (prefixes of the shipped Beijing taxonomy); a centre
# edits the rows. Prefix codes without a category are harmless: nothing matches them.
_DEFAULT_ATTRIBUTES = [
    {
        "category_prefix": "1704",
        "code": "room_temp",
        "datatype": "number",
        "required": True,
        "variable": True,
        "datatype_description": "摄氏度，如 16.5",
        "description": "室内温度（℃），在房间中央距地面 1.5 米处测量",
        "order": 1,
        "values": [],
    },
    {
        "category_prefix": "1704",
        "code": "heating_type",
        "datatype": "singlevaluelist",
        "required": False,
        "variable": True,
        "datatype_description": "",
        "description": "供暖方式",
        "order": 2,
        "values": [
            {"key": "central", "name": "集中供热"},
            {"key": "self", "name": "自采暖（燃气壁挂炉等）"},
        ],
    },
    {
        "category_prefix": "1701",
        "code": "water_problem",
        "datatype": "singlevaluelist",
        "required": True,
        "variable": True,
        "datatype_description": "",
        "description": "用水问题",
        "order": 1,
        "values": [
            {"key": "no_water", "name": "停水"},
            {"key": "low_pressure", "name": "水压不足"},
            {"key": "quality", "name": "水质异常"},
            {"key": "leak", "name": "管线漏水"},
        ],
    },
    {
        "category_prefix": "1701",
        "code": "households",
        "datatype": "number",
        "required": False,
        "variable": True,
        "datatype_description": "户数，估计即可",
        "description": "受影响的户数",
        "order": 2,
        "values": [],
    },
    {
        "category_prefix": "1001",
        "code": "noise_period",
        "datatype": "singlevaluelist",
        "required": True,
        "variable": True,
        "datatype_description": "",
        "description": "噪声发生时段",
        "order": 1,
        "values": [
            {"key": "day", "name": "白天（6:00–22:00）"},
            {"key": "night", "name": "夜间（22:00–次日 6:00）"},
        ],
    },
    {
        "category_prefix": "1001",
        "code": "noise_started",
        "datatype": "datetime",
        "required": False,
        "variable": True,
        "datatype_description": "如 2026-10-12T22:30:00+08:00",
        "description": "噪声开始时间",
        "order": 2,
        "values": [],
    },
    {
        "category_prefix": "0504",
        "code": "facility_id",
        "datatype": "string",
        "required": False,
        "variable": True,
        "datatype_description": "",
        "description": "设施编号（路灯杆号、井盖编号等）",
        "order": 1,
        "values": [],
    },
    {
        "category_prefix": "170301",
        "code": "gas_safety",
        "datatype": "string",
        "required": False,
        "variable": False,
        "datatype_description": "",
        "description": "闻到燃气味请立即开窗通风，勿开关电器、勿用明火，并拨打燃气抢修电话 96777。",
        "order": 0,
        "values": [],
    },
]


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("created_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_idempotency_key_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_key_scope_key"),
    )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_key_case_id"), ["case_id"], unique=False)

    op.create_table(
        "open311_client",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", jiesu.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_client")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_client_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_client_name")),
    )

    attributes = op.create_table(
        "service_attribute",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("category_prefix", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("datatype", sa.String(length=20), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("variable", sa.Boolean(), nullable=False),
        sa.Column("datatype_description", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_attribute")),
        sa.UniqueConstraint("category_prefix", "code", name="uq_service_attribute"),
    )
    with op.batch_alter_table("service_attribute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_attribute_category_prefix"), ["category_prefix"], unique=False
        )

    op.create_table(
        "open311_request",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("address_id", sa.String(length=100), nullable=False),
        sa.Column("zipcode", sa.String(length=20), nullable=False),
        sa.Column("media_url", sa.String(length=1000), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_open311_request_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_open311_request")),
        sa.UniqueConstraint("token", name=op.f("uq_open311_request_token")),
    )
    with op.batch_alter_table("open311_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open311_request_client"), ["client"], unique=False)

    if attributes is not None:
        op.bulk_insert(attributes, _DEFAULT_ATTRIBUTES)


def downgrade() -> None:
    with op.batch_alter_table("open311_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open311_request_client"))
    op.drop_table("open311_request")
    with op.batch_alter_table("service_attribute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_attribute_category_prefix"))
    op.drop_table("service_attribute")
    op.drop_table("open311_client")
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_key_case_id"))
    op.drop_table("idempotency_key")
