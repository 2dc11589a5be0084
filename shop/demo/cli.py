"""`flask seed-demo`: demo data, loaded through the same services the shop uses; safe to run again."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from shop.accounts import services as accounts
from shop.accounts.roles import Role
from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.catalog.services import listable_products
from shop.cooperatives import services as cooperatives
from shop.cooperatives.credit_code import with_check_character
from shop.cooperatives.models import Cooperative
from shop.demo import data
from shop.demo.certify import certify_demo_products
from shop.demo.households import linked_count, seed_households, seed_settled_sales
from shop.extensions import db
from shop.organizations.models import Organization
from shop.unit_of_work import use_case


def _demo_credit_code(index: int, county_code: str) -> str:
    # 9 = market regulation authority, 3 = farmers' specialised cooperative; the organisation part is invented.
    return with_check_character(f"93{county_code}MA0FP{index:04d}")


def seed() -> list[tuple[str, str, str]]:
    """Create what is missing; return (role, e-mail, password) of the demo users."""
    operator_email = data.USERS[0][0]
    operator = accounts.user_by_email(operator_email)
    if operator is None:
        operator = accounts.create_user(operator_email, data.DEMO_PASSWORD, data.USERS[0][1])
        accounts.grant_role(None, operator, Role.OPERATOR, reason="demo data")

    by_key: dict[str, Cooperative] = {}
    for index, (key, name, kind, county, description) in enumerate(data.COOPERATIVES, start=1):
        code = _demo_credit_code(index, data.COUNTIES[county])
        cooperative = db.session.scalar(select(Cooperative).where(Cooperative.credit_code == code))
        if cooperative is None:
            cooperative = cooperatives.create_cooperative(
                operator,
                {
                    "name": name,
                    "credit_code": code,
                    "kind": kind,
                    "county_code": data.COUNTIES[county],
                    "description": description,
                    "contact_name": "联系人（演示）",
                    "contact_phone": "0318-0000000",
                    "payout_bank_name": "演示银行",
                    "payout_account_name": name,
                    "payout_account_number": f"62220000{index:08d}",
                },
            )
        by_key[key] = cooperative

    for key, name, category, unit, price_fen, stock, minimum, description in data.PRODUCTS:
        cooperative = by_key[key]
        exists = db.session.scalar(
            select(Product.id).where(Product.cooperative_id == cooperative.id, Product.name == name)
        )
        if exists is None:
            catalog.create_product(
                operator,
                cooperative.id,
                {
                    "name": name,
                    "category": category,
                    "unit": unit,
                    "price_fen": price_fen,
                    "stock": stock,
                    "min_order_quantity": minimum,
                    "description": description,
                    "origin_county_code": cooperative.county_code,
                },
            )

    organization = _ensure_organization(operator)
    credentials = []
    users = {}
    for email, display_name, role, scope in data.USERS:
        user = accounts.user_by_email(email)
        if user is None:
            user = accounts.create_user(email, data.DEMO_PASSWORD, display_name)
        scope_args = {}
        if role == Role.COOPERATIVE_STAFF:
            scope_args["cooperative_id"] = by_key[scope].id
        elif scope == data.ORGANIZATION["key"]:
            scope_args["organization_id"] = organization.id
        elif role in (Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER):
            scope_args["region_code"] = scope
        accounts.grant_role(operator, user, Role(role), reason="demo data", **scope_args)
        if role != Role.CONSUMER:
            accounts.grant_role(operator, user, Role.CONSUMER, reason="demo data")
        credentials.append((role, email, data.DEMO_PASSWORD))
        users[email] = user
    _ensure_staff(operator, by_key)
    seed_households(operator, list(by_key.values()))
    certify_demo_products(operator, users)
    seed_settled_sales(operator, users["consumer@fupin.demo"], list(by_key.values()))
    return credentials


def _ensure_organization(operator) -> Organization:
    """The demo's buyer unit (shop/organizations/), found by its credit code."""
    spec = data.ORGANIZATION
    code = with_check_character(f"11{spec['county_code']}MB0FP0001")
    organization = db.session.scalar(select(Organization).where(Organization.credit_code == code))
    if organization is None:
        organization = Organization(
            name=spec["name"],
            credit_code=code,
            kind=spec["kind"],
            region_code=spec["county_code"],
            canteen_status=spec["canteen_status"],
            invitation_code="DEMO2026",
            created_by_id=operator.id,
        )
        db.session.add(organization)
        db.session.flush()
    return organization


def _ensure_staff(operator, by_key: dict[str, Cooperative]) -> None:
    """Every demo cooperative has a staff account (the one in data.USERS manages the first)."""
    for index, cooperative in enumerate(by_key.values(), start=1):
        email = f"staff{index:02d}@fupin.demo"
        user = accounts.user_by_email(email)
        if user is None:
            user = accounts.create_user(email, data.DEMO_PASSWORD, f"{cooperative.name[:20]}员工（演示）")
        accounts.grant_role(operator, user, Role.COOPERATIVE_STAFF, cooperative_id=cooperative.id, reason="demo data")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load the demo cooperatives, products and one user per role (idempotent)."""
    with use_case():
        credentials = seed()
    listed = db.session.scalar(select(func.count()).select_from(listable_products().subquery()))
    click.echo(
        f"Demo data ready: {db.session.query(Cooperative).count()} cooperatives, "
        f"{db.session.query(Product).count()} products ({listed} certified and on sale), "
        f"{linked_count()} confirmed benefit links to households."
    )
    click.echo("Demo users (role, e-mail, password):")
    for role, email, password in credentials:
        click.echo(f"  {role:<18} {email:<28} {password}")
