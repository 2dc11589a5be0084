from enum import StrEnum


class Role(StrEnum):
    CONSUMER = "consumer"
    COOPERATIVE_STAFF = "cooperative_staff"
    ORG_ADMIN = "org_admin"
    ORG_PURCHASER = "org_purchaser"
    ORG_APPROVER = "org_approver"
    COUNTY_REVIEWER = "county_reviewer"
    PROVINCE_REVIEWER = "province_reviewer"
    OPERATOR = "operator"


# What each role is scoped to: the scope a grant must name, and nothing else.
ROLE_SCOPE: dict[Role, str | None] = {
    Role.CONSUMER: None,
    Role.COOPERATIVE_STAFF: "cooperative",
    Role.ORG_ADMIN: "organization",
    Role.ORG_PURCHASER: "organization",
    Role.ORG_APPROVER: "organization",
    Role.COUNTY_REVIEWER: "county",
    Role.PROVINCE_REVIEWER: "province",
    Role.OPERATOR: None,
}
