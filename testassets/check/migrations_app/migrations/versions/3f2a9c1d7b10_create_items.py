"""create items

Revision ID: 3f2a9c1d7b10
Revises:
Create Date: 2026-11-24 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '3f2a9c1d7b10'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('item')
