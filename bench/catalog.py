"""Benchmark of the public catalogue API (GET /api/v1/products) under production-like serving.

`make bench` (or `.venv/bin/python bench/catalog.py` from the repository root):

1. drops and recreates the PostgreSQL database `fupin_bench` on 127.0.0.1:5432 (never `test`), creates the
   schema with the project's migrations (`flask db upgrade`, which also loads the regions), bulk-loads by
   COPY 200 cooperatives and 10,000 products with photo rows (and, when the schema has certification, a
   certificate valid today for every product), then VACUUM ANALYZE;
2. serves the shop with gunicorn as in production (`gunicorn --workers 2 --bind 127.0.0.1:<port> wsgi:app`,
   sync workers);
3. fetches the shop's answer for every scenario and serves the same bytes from memory with a bare Flask app
   (bench/ceiling_app.py) under the same gunicorn settings: the ceiling;
4. drives both with wrk, only ever on 127.0.0.1: per scenario a short warm-up, then bounded runs alternating
   shop and ceiling so that both see the same background load;
5. prints a table and rewrites the section between `<!-- catalog:begin -->` and `<!-- catalog:end -->` of
   docs/benchmarks.md.

The gunicorn processes are stopped at the end, also on error. The database `fupin_bench` is left in place
for inspection (pass --drop-db to drop it); the next run drops and recreates it anyway.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shop.cooperatives.credit_code import with_check_character  # noqa: E402

BIN = Path(sys.executable).parent
BENCH_DB = "fupin_bench"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- catalog:begin -->", "<!-- catalog:end -->"
SETTLE_SECONDS = 0.5  # after each wrk run: the server finishes what wrk left queued
TARGET = 0.50  # the shop should reach at least half of the ceiling's requests per second

N_COOPERATIVES = 200
N_PRODUCTS = 10_000
SEED = 20_201_124

SCENARIOS = [
    ("first page (default)", "/api/v1/products"),
    ("page 2, per_page=20", "/api/v1/products?page=2&per_page=20"),
    ("filter: fruit in Hebei (13)", "/api/v1/products?category=fruit&province=13"),
    ("search: q=桃", "/api/v1/products?q=" + urllib.parse.quote("桃")),
    ("sort: price_asc", "/api/v1/products?sort=price_asc"),
]

# Headers of the shop's answer that the ceiling repeats (the rest are per-connection or computed).
KEPT_HEADERS = {
    "content-type",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "content-security-policy",
    "vary",
}


# --------------------------------------------------------------------------------------------------------
# Data: where poverty-relief produce comes from, and what it is called.
# --------------------------------------------------------------------------------------------------------

# Provinces weighted roughly by the number of formerly designated poor counties (and so of sellers).
PROVINCE_WEIGHTS = {
    "13": 12,  # Hebei: the demo's home, and the filtered scenario
    "14": 6,  # Shanxi
    "15": 3,  # Inner Mongolia
    "22": 1,  # Jilin
    "23": 2,  # Heilongjiang
    "34": 5,  # Anhui
    "36": 4,  # Jiangxi
    "41": 8,  # Henan
    "42": 6,  # Hubei
    "43": 7,  # Hunan
    "45": 6,  # Guangxi
    "46": 1,  # Hainan
    "50": 2,  # Chongqing
    "51": 9,  # Sichuan
    "52": 9,  # Guizhou
    "53": 10,  # Yunnan
    "54": 3,  # Tibet
    "61": 7,  # Shaanxi
    "62": 8,  # Gansu
    "63": 2,  # Qinghai
    "64": 1,  # Ningxia
    "65": 4,  # Xinjiang
}

# category: (share of cooperatives specialising in it, units, price range of one unit in fen, items)
CATEGORIES = {
    "fruit": (
        26, ("斤", "箱", "kg"), (250, 16800),
        "蜜桃 油桃 水蜜桃 黄桃 猕猴桃 苹果 鸭梨 酥梨 葡萄 脐橙 柑橘 芒果 石榴 红枣 柿子 樱桃 李子 杏 草莓 蓝莓",
    ),
    "vegetables": (
        15, ("斤", "箱", "kg", "袋"), (200, 6800),
        "番茄 黄瓜 彩椒 土豆 红薯 山药 白菜 胡萝卜 莲藕 香菇 木耳 竹笋 大蒜 生姜 南瓜",
    ),
    "grain_oil": (
        15, ("袋", "桶", "盒", "kg"), (800, 12800),
        "小米 绿豆 红豆 黑米 燕麦 荞麦 玉米糁 大米 菜籽油 花生油 核桃油 胡麻油 挂面",
    ),
    "meat_eggs": (
        12, ("盒", "只", "斤", "袋"), (600, 19800), "土鸡蛋 咸鸭蛋 松花蛋 散养土鸡 腊肉 牛肉干 羊肉 兔肉 香肠 鹅蛋",
    ),
    "tea": (
        10, ("盒", "罐", "包", "g"), (1500, 29800), "绿茶 红茶 白茶 黑茶 毛尖 金银花茶 苦荞茶 菊花茶 冬凌草茶 桑叶茶",
    ),
    "herbs": (8, ("罐", "袋", "盒", "g"), (1200, 26800), "金银花 黄芪 党参 枸杞 当归 天麻 三七 连翘 丹参 柴胡"),
    "crafts": (
        4, ("个", "份"), (1800, 39800), "挑花桌旗 手工布包 竹编篮 草编包 刺绣挂画 陶罐 剪纸 苗绣香包 木雕 藤编果盘",
    ),
    "other": (
        10, ("瓶", "罐", "袋", "盒", "提"), (600, 12800),
        "蜂蜜 桃花蜂蜜 核桃 核桃仁 果脯 黄桃罐头 苹果醋 秋梨膏 粉条 辣椒酱 桃胶 红薯干",
    ),
}  # fmt: skip
VARIANTS = ("", "", "精品礼盒", "家庭装", "产地直发", "特级", "一级", "新货", "5斤装", "10斤装", "小包装", "农家自产")
PHRASES = (
    "脱贫户种植，合作社统一收购、分拣与包装",
    "当季采收，冷链发货",
    "扶贫车间加工，吸纳留守妇女就业",
    "保底收购，带动周边村庄增收",
    "绿色种植，不打催熟剂",
    "传统工艺，手工制作",
    "山区散养，生长周期长",
    "入股分红，收益返还贫困户",
)
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN_NAMES = ("建国", "秀英", "桂兰", "志强", "海燕", "德明")
KINDS = (("cooperative", 75), ("workshop", 15), ("leading_enterprise", 10))
KIND_SUFFIX = {"cooperative": "专业合作社", "workshop": "扶贫车间", "leading_enterprise": "农业发展有限公司"}
SPECIALITY_WORD = {
    "fruit": "果品种植",
    "vegetables": "蔬菜种植",
    "grain_oil": "杂粮",
    "meat_eggs": "生态养殖",
    "tea": "茶叶",
    "herbs": "中药材种植",
    "crafts": "手工艺品",
    "other": "农副产品",
}


def _short(county_name: str) -> str:
    """饶阳县 → 饶阳, 阿克苏市 → 阿克苏; two-character names stay whole."""
    for suffix in ("自治县", "县", "市", "区", "旗"):
        if county_name.endswith(suffix) and len(county_name) - len(suffix) >= 2:
            return county_name[: -len(suffix)]
    return county_name


def _price(rng: random.Random, low: int, high: int, unit: str) -> int:
    if unit in ("斤", "kg", "g"):
        high = max(low + 100, high // 4)
    yuan_tenths = math.exp(rng.uniform(math.log(low), math.log(high))) / 10
    return max(1, round(yuan_tenths) * 10 - rng.choice((0, 0, 10, 20)))


def copy_rows(cur: psycopg.Cursor, table: str, columns: list[str], rows) -> None:
    """COPY rows into a table; first make sure no required column of the current schema is left out."""
    missing = [
        name
        for (name,) in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
            "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' ORDER BY ordinal_position",
            (table,),
        )
        if name not in columns
    ]
    if missing:
        raise RuntimeError(
            f"the schema now requires {table}.{', '.join(missing)} (NOT NULL, no default): "
            "teach bench/catalog.py to fill it"
        )
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate(conn: psycopg.Connection) -> dict:
    """Bulk-load cooperatives, products and photo rows with COPY; return a few counts."""
    rng = random.Random(SEED)
    counties = conn.execute(
        "SELECT c.code, c.name, p.name FROM regions c JOIN regions p ON p.code = c.province_code "
        "WHERE c.level = 'county' ORDER BY c.code"
    ).fetchall()
    by_province: dict[str, list[tuple[str, str, str]]] = {}
    for code, name, province_name in counties:
        by_province.setdefault(code[:2], []).append((code, name, province_name))
    provinces = [p for p in PROVINCE_WEIGHTS if p in by_province]
    weights = [PROVINCE_WEIGHTS[p] for p in provinces]
    categories = list(CATEGORIES)
    category_weights = [CATEGORIES[c][0] for c in categories]
    now = datetime.now(UTC)

    # Cooperatives cluster: a province's sellers come from a few of its counties.
    hot_counties = {p: rng.sample(by_province[p], min(len(by_province[p]), 3 + PROVINCE_WEIGHTS[p])) for p in provinces}
    cooperatives = []
    for i in range(1, N_COOPERATIVES + 1):
        province = rng.choices(provinces, weights)[0]
        code, county_name, province_name = rng.choice(hot_counties[province])
        speciality = rng.choices(categories, category_weights)[0]
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        name = f"{county_name}{SPECIALITY_WORD[speciality]}{KIND_SUFFIX[kind]}"
        if any(c["name"] == name for c in cooperatives):
            name = f"{county_name}{rng.choice('东西南北')}{SPECIALITY_WORD[speciality]}{KIND_SUFFIX[kind]}"
        created = now - timedelta(days=rng.uniform(400, 1500))
        cooperatives.append(
            {
                "id": i,
                "name": name[:120],
                "credit_code": with_check_character("93" + code + "MA0BN" + f"{i:04d}"),
                "kind": kind,
                "county_code": code,
                "county_name": county_name,
                "province_name": province_name,
                "speciality": speciality,
                "address": f"{province_name}{county_name}{rng.choice('东西南北')}关村{rng.randint(1, 30)}号",
                "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                "contact_phone": f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}",
                "description": f"{county_name}{SPECIALITY_WORD[speciality]}，{rng.choice(PHRASES)}。",
                "payout_bank_name": rng.choice(("中国农业银行", "农村信用社", "邮政储蓄银行", "农村商业银行")),
                "payout_account_number": f"6228{rng.randint(0, 10**15 - 1):015d}",
                "created_at": created,
            }
        )

    # Products per cooperative: a long tail (a few big sellers, many small ones), at least one each.
    raw = [rng.paretovariate(1.3) for _ in cooperatives]
    scale = (N_PRODUCTS - N_COOPERATIVES) / sum(raw)
    counts = [1 + int(r * scale) for r in raw]
    for k in range(N_PRODUCTS - sum(counts)):
        counts[k % len(counts)] += 1

    products, photos = [], []
    product_id = 0
    for cooperative, count in zip(cooperatives, counts, strict=True):
        for _ in range(count):
            product_id += 1
            category = cooperative["speciality"] if rng.random() < 0.7 else rng.choices(categories, category_weights)[0]
            _share, units, (low, high), items = CATEGORIES[category]
            item = rng.choice(items.split())
            unit = rng.choice(units)
            variant = rng.choice(VARIANTS)
            name = f"{_short(cooperative['county_name'])}{item}" + (f" {variant}" if variant else "")
            since = cooperative["created_at"]
            created = since + timedelta(seconds=rng.uniform(0, (now - since).total_seconds()))
            updated = created + timedelta(seconds=rng.uniform(0, (now - created).total_seconds()))
            products.append(
                (
                    product_id,
                    cooperative["id"],
                    name,
                    category,
                    cooperative["county_code"],
                    unit,
                    _price(rng, low, high, unit),
                    rng.choice((0, rng.randint(10, 500), rng.randint(100, 20_000))),
                    rng.choice((1, 1, 1, 2, 5, 10)) if unit in ("斤", "kg") else 1,
                    f"{cooperative['province_name']}{cooperative['county_name']}{item}，{rng.choice(PHRASES)}。"
                    f"由{cooperative['name']}发货，{rng.choice(PHRASES)}。",
                    True,
                    created,
                    updated,
                )
            )
            for position in range(rng.choices((0, 1, 2, 3), (15, 40, 30, 15))[0]):
                width, height = rng.choice(((1200, 900), (1080, 1080), (800, 600), (1600, 1200)))
                photos.append(
                    (
                        product_id,
                        f"{uuid.UUID(int=rng.getrandbits(128), version=4).hex}.jpg",
                        "image/jpeg",
                        rng.randint(40_000, 900_000),
                        width,
                        height,
                        position,
                        created,
                    )
                )

    cooperative_columns = [
        "id", "name", "credit_code", "kind", "county_code", "address", "contact_name", "contact_phone",
        "description", "payout_bank_name", "payout_account_name", "payout_account_number", "status",
        "status_reason", "created_at", "updated_at",
    ]  # fmt: skip
    cooperative_rows = []
    for c in cooperatives:
        row = dict(c, payout_account_name=c["name"], status="active", status_reason="", updated_at=c["created_at"])
        cooperative_rows.append([row[column] for column in cooperative_columns])
    product_columns = [
        "id", "cooperative_id", "name", "category", "origin_county_code", "unit", "price_fen", "stock",
        "min_order_quantity", "description", "is_active", "created_at", "updated_at",
    ]  # fmt: skip
    photo_columns = [
        "product_id", "stored_name", "content_type", "size_bytes", "width", "height", "position", "created_at"
    ]  # fmt: skip
    with conn.cursor() as cur:
        copy_rows(cur, "cooperatives", cooperative_columns, cooperative_rows)
        copy_rows(cur, "products", product_columns, products)
        copy_rows(cur, "product_photos", photo_columns, photos)
        certified = _certify(conn, rng, cooperatives, products, now)
        for table in ("cooperatives", "products"):  # ids were given explicitly: move the sequences past them
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return {
        "cooperatives": len(cooperatives),
        "counties": len({c["county_code"] for c in cooperatives}),
        "provinces": len({c["county_code"][:2] for c in cooperatives}),
        "products": len(products),
        "photos": len(photos),
        **certified,
    }


def _certify(
    conn: psycopg.Connection, rng: random.Random, cooperatives: list[dict], products: list[tuple], now: datetime
) -> dict:
    """When the schema has certification (a product is listed only while it holds a valid certificate):
    every product gets a certified application and a certificate valid today; one in ten also has an
    earlier, superseded one. Without the certification tables, nothing is done."""
    if conn.execute("SELECT to_regclass('certificates')").fetchone()[0] is None:
        return {}
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    by_id = {c["id"]: c for c in cooperatives}
    user_id = conn.execute(
        "INSERT INTO users (email, password_hash, display_name, active, created_at, session_token) "
        "VALUES ('bench-operator@fupin.invalid', '!', 'bench operator', true, %s, md5(random()::text)) RETURNING id",
        (now,),
    ).fetchone()[0]
    applications, certificates, sequences = [], [], {}

    def add(product: tuple, state: str, valid_from: date, valid_until: date) -> None:
        cooperative = by_id[product[1]]
        province, year = product[4][:2], valid_from.year
        sequences[(province, year)] = number = sequences.get((province, year), 0) + 1
        certified_at = datetime.combine(valid_from, datetime.min.time(), UTC) - timedelta(hours=8)
        submitted_at = certified_at - timedelta(days=rng.randint(10, 40))
        application_id = len(applications) + 1
        applications.append((
            application_id, product[0], cooperative["id"], product[2], cooperative["name"], state, product[4],
            cooperative["address"], rng.randint(1, 500) * 1000, "kg", f"年供应约{rng.randint(5, 300)}吨",
            product[6], int(product[6] * rng.uniform(1.0, 1.3)), "当地批发市场近三个月均价",
            rng.choice(("produce_purchase", "wages", "dividend", "guaranteed_return")),
            "订单收购脱贫户农产品，按时结算。", rng.randint(5, 400), 1, submitted_at, certified_at,
            valid_from - timedelta(days=1), user_id, submitted_at - timedelta(days=3), certified_at,
        ))  # fmt: skip
        certificates.append((
            len(certificates) + 1, f"FP{province}-{year}-{number:06d}", application_id, product[0], product[2],
            cooperative["name"], product[4], valid_from, valid_until, certified_at,
        ))  # fmt: skip

    for product in products:
        age = (today - product[11].date()).days
        valid_from = today - timedelta(days=rng.randint(0, max(0, min(700, age))))
        if rng.random() < 0.1:
            add(product, "superseded", valid_from - timedelta(days=730), valid_from - timedelta(days=1))
        add(product, "certified", valid_from, valid_from + timedelta(days=729))

    application_columns = [
        "id", "product_id", "cooperative_id", "product_name", "cooperative_name", "state", "origin_county_code",
        "production_base_address", "annual_output", "output_unit", "supply_capacity", "declared_price_fen",
        "market_price_fen", "market_price_source", "linkage_type", "linkage_description", "linked_households",
        "version_count", "submitted_at", "state_changed_at", "notice_ends_on", "created_by_id", "created_at",
        "updated_at",
    ]  # fmt: skip
    certificate_columns = [
        "id", "certificate_no", "application_id", "product_id", "product_name", "cooperative_name",
        "origin_county_code", "valid_from", "valid_until", "issued_at",
    ]  # fmt: skip
    with conn.cursor() as cur:
        copy_rows(cur, "certification_applications", application_columns, applications)
        copy_rows(cur, "certificates", certificate_columns, certificates)
        copy_rows(
            cur,
            "certificate_sequences",
            ["province_prefix", "year", "last_number"],
            [(province, year, last) for (province, year), last in sequences.items()],
        )
        for table in ("certification_applications", "certificates"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return {"certificates": len(certificates)}


# --------------------------------------------------------------------------------------------------------
# Database, servers, wrk
# --------------------------------------------------------------------------------------------------------


def recreate_database() -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database() -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_gunicorn(name: str, app: str, env: dict, workdir: Path, logdir: Path, workers: int = 2) -> Server:
    port = free_port()
    log = logdir / f"{name}.log"
    command = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", app]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, port, process, log)


def wait_ready(server: Server, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url(path), timeout=5) as response:  # noqa: S310 (http://127.0.0.1)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout}s:\n{server.log_tail()}")


def stop(server: Server) -> None:
    """Stop the gunicorn master we started (it stops its workers): TERM, then QUIT, then KILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        if server.process.poll() is not None:
            return
        server.process.send_signal(sig)
        try:
            server.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def fetch(url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    assert url.startswith("http://127.0.0.1:"), url
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (http://127.0.0.1 only)
        return response.status, list(response.getheaders()), response.read()


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    seconds: float
    errors: list[str]
    cpu_s: float = 0.0  # CPU time of the server's processes, its PostgreSQL backends and wrk during the run


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pids: set[int]) -> float:
    """CPU seconds (user + system) used so far by these processes; vanished ones count for nothing."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def process_tree(pid: int) -> set[int]:
    """A gunicorn master and its workers."""
    pids = {pid}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def backends(monitor: psycopg.Connection) -> set[int]:
    rows = monitor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (BENCH_DB,)
    )
    return {pid for (pid,) in rows}


def run_wrk(url: str, seconds: int, threads: int, connections: int) -> WrkResult:
    assert url.startswith("http://127.0.0.1:"), url  # never anything but this machine
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    out = finished.stdout
    if finished.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"{' '.join(command)} failed ({finished.returncode}):\n{out}{finished.stderr}")
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    errors = []
    match = re.search(r"Socket errors: (.+)", out)
    if match and any(int(n) for _kind, n in re.findall(r"(\w+) (\d+)", match.group(1))):
        errors.append("socket errors: " + match.group(1).strip())
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors.append(f"{match.group(1)} non-2xx answers")
    return WrkResult(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),
        p99_ms=_ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),
        requests=int(done.group(1)),
        seconds=_ms(done.group(2) + done.group(3)) / 1000,
        errors=errors,
    )


def measure(server: Server, path: str, seconds: int, args, monitor: psycopg.Connection) -> WrkResult:
    """One wrk run, with the CPU time it cost: the server's processes, the database's backends, wrk itself.

    CPU per request hardly depends on what else runs on the machine, unlike requests per second.
    """
    processes, pg = process_tree(server.process.pid), backends(monitor)
    before = process_cpu(processes) + process_cpu(pg)
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_wrk(server.url(path), seconds, args.threads, args.connections)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg |= backends(monitor)
    wrk_cpu = (wrk_after.ru_utime - wrk_before.ru_utime) + (wrk_after.ru_stime - wrk_before.ru_stime)
    result.cpu_s = process_cpu(processes) + process_cpu(pg) - before + wrk_cpu
    return result


def combine(rounds: list[WrkResult]) -> WrkResult:
    """Rounds of one server: requests/s over all of them, the mean p50, the worst p99."""
    return WrkResult(
        rps=sum(r.requests for r in rounds) / sum(r.seconds for r in rounds),
        p50_ms=sum(r.p50_ms for r in rounds) / len(rounds),
        p99_ms=max(r.p99_ms for r in rounds),
        requests=sum(r.requests for r in rounds),
        seconds=sum(r.seconds for r in rounds),
        errors=[e for r in rounds for e in r.errors],
        cpu_s=sum(r.cpu_s for r in rounds),
    )


def cpu_ms_per_request(result: WrkResult) -> float:
    return result.cpu_s / max(1, result.requests) * 1000


def busy_cpu_share(seconds: float = 2.0) -> float:
    """Share of all CPUs busy over a short sample (other work on the machine skews every figure)."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0)


def code_state() -> str:
    """The commit measured, and whether the working tree differed from it (read-only git commands)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "--no-optional-locks",
                "status",
                "--porcelain",
                "--",
                "shop",
                "certification",
                "migrations",
                "wsgi.py",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"`{head}`" + (" with uncommitted changes in shop/certification/migrations" if dirty.strip() else "")


# --------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------


def host() -> dict:
    """What every benchmark reports of the machine: CPUs, CPU model, memory, Python, kernel."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def server_settings(database: str, *names: str) -> dict[str, str]:
    """`SHOW <name>` of the PostgreSQL server, through the benchmark's own database."""
    with psycopg.connect(f"{PG_SERVER}/{database}", connect_timeout=5) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}


def gunicorn_version() -> str:
    out = subprocess.run([str(BIN / "gunicorn"), "--version"], capture_output=True, text=True).stdout.strip()
    return out.replace("gunicorn (version ", "").rstrip(")")


def machine() -> dict:
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    return {
        **host(),
        "postgresql": server_settings(BENCH_DB, "server_version")["server_version"],
        "gunicorn": gunicorn_version(),
        "wrk": wrk[0].split("Copyright")[0].strip() if wrk else "wrk",
    }


def render_section(rows: list[dict], context: dict, args) -> str:
    counts, info = context["counts"], context["machine"]
    met = all(r["ratio"] >= TARGET for r in rows)
    worst = min(rows, key=lambda r: r["ratio"])
    slice_s = max(1, round(args.duration / args.rounds))
    certified = (
        f", each holding a certificate valid on the run's date ({counts['certificates']:,} certificates, some "
        "superseded)"
        if "certificates" in counts
        else ""
    )
    lines = [
        BEGIN,
        "## Catalogue API: `GET /api/v1/products`",
        "",
        "_This section is rewritten by `bench/catalog.py` at each run; edit the script, not the section._",
        "",
        "**What is measured.** Requests per second and latency (p50, p99) of the public catalogue listing served "
        "as in production, `gunicorn --workers 2 --bind 127.0.0.1:<port> wsgi:app` (sync workers), against "
        f"PostgreSQL on a database of its own (`{BENCH_DB}`, never `test`). The schema comes from the project's "
        "migrations (`flask db upgrade`, which loads the regions); the data is bulk-loaded by COPY, then "
        f"`VACUUM ANALYZE`: {counts['cooperatives']} active cooperatives in {counts['counties']} real counties of "
        f"{counts['provinces']} provinces (weighted towards the former poverty counties), {counts['products']:,} "
        "active products in all 8 categories (prices in integer fen, units such as 斤/箱/袋, a long tail of "
        f"products per cooperative){certified}, and {counts['photos']:,} photo rows.",
        "",
        "**The ceiling.** `bench/ceiling_app.py`, a bare Flask app under the same gunicorn settings, answers the "
        "same paths with the very bytes (and headers) the shop answered, fetched from the shop first and kept in "
        "memory: no database, ORM, schema or hooks. The ratio shop/ceiling says how much of what Flask + gunicorn "
        f"can do on this machine the shop keeps. **Target: at least {TARGET:.0%} of the ceiling** in every scenario.",
        "",
        f"**How.** wrk `-t{args.threads} -c{args.connections} --latency` on 127.0.0.1 only. Per scenario, each "
        f"server gets a {args.warmup} s warm-up, then {args.rounds} runs of {slice_s:g} s alternating shop and "
        "ceiling (shop, ceiling, ceiling, shop …) so that both see the same background load; req/s is over all "
        "runs, p50 the mean, p99 the worst. wrk, gunicorn and PostgreSQL share the machine's cores, so absolute "
        "figures are lower than with a separate load generator; compare the ratio. Sync workers close the "
        "connection after each answer, for the shop and the ceiling alike. *CPU/req* is the CPU time (user + "
        "system, from /proc) of the server's gunicorn processes, of the PostgreSQL backends of the bench database "
        "and of wrk, divided by the requests served: unlike req/s it hardly moves when other work shares the "
        "machine, so *Shop/ceiling by CPU* (ceiling CPU/req ÷ shop CPU/req) is the cross-check of the req/s "
        "ratio; the target is judged on req/s.",
        "",
        "**Rerun:** `make bench` (about 2½ minutes; options: `.venv/bin/python bench/catalog.py --help`). "
        f"`{BENCH_DB}` is dropped and recreated at the start of each run and left in place afterwards for "
        "inspection (`--drop-db` drops it at the end).",
        "",
        f"**Machine:** {info['nproc']} CPUs (`nproc`), {info['cpu']}, {info['memory']} RAM, Linux {info['kernel']}; "
        f"PostgreSQL {info['postgresql']}; Python {info['python']}; gunicorn {info['gunicorn']}; {info['wrk']}. "
        f"Background CPU use before/after the run: {context['busy_before']:.0%} / {context['busy_after']:.0%}"
        + (
            " (other work was running: figures are noisier than usual)."
            if max(context["busy_before"], context["busy_after"]) > 0.15
            else "."
        ),
        "",
        f"**Run of {context['started'].strftime('%Y-%m-%d %H:%M %Z')}** on code {context['code']}:",
        "",
        "| Scenario | Matches | Body | Shop req/s | Shop p50 | Shop p99 | Shop CPU/req | Ceiling req/s "
        "| Ceiling p50 | Ceiling p99 | Ceiling CPU/req | Shop/ceiling req/s | Shop/ceiling by CPU |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        s, c = r["shop"], r["ceiling"]
        lines.append(
            f"| {r['name']}<br>`{urllib.parse.unquote(r['path'])}` | {r['total']:,} | {r['bytes'] / 1024:.1f} KiB "
            f"| {s.rps:,.0f} | {s.p50_ms:.1f} ms | {s.p99_ms:.1f} ms | {cpu_ms_per_request(s):.2f} ms "
            f"| {c.rps:,.0f} | {c.p50_ms:.1f} ms | {c.p99_ms:.1f} ms | {cpu_ms_per_request(c):.2f} ms "
            f"| **{r['ratio']:.0%}**{'' if r['ratio'] >= TARGET else ' ✗'} | {r['cpu_ratio']:.0%} |"
        )
    lines.append("")
    errors = [
        f"{r['name']} ({who}): {', '.join(r[who].errors)}" for r in rows for who in ("shop", "ceiling") if r[who].errors
    ]
    if errors:
        lines += ["**wrk reported errors:** " + "; ".join(errors), ""]
    if met:
        lines.append(
            f"**Target met:** every scenario reaches {TARGET:.0%} of the ceiling or more "
            f"(lowest: {worst['name']}, {worst['ratio']:.0%})."
        )
    else:
        below = ", ".join(f"{r['name']} ({r['ratio']:.0%})" for r in rows if r["ratio"] < TARGET)
        lines.append(f"**Target not met:** below {TARGET:.0%} of the ceiling: {below}.")
    lines.append(END)
    return "\n".join(lines) + "\n"


DOCS_HEAD = """# Benchmarks

Each benchmark lives in `bench/`, is run by `make bench`, and rewrites its own section of this file between
its markers (`<!-- name:begin -->` … `<!-- name:end -->`); text outside the markers is left alone, so
benchmarks can be added side by side. Figures depend on the machine: compare ratios, and rerun before
comparing absolute figures.

"""


def write_docs(section: str, begin: str = BEGIN, end: str = END) -> None:
    """Put `section` between its markers in docs/benchmarks.md (each benchmark has its own pair)."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else DOCS_HEAD
    if begin in text and end in text:
        start = text.index(begin)
        stop_at = text.index(end) + len(end)
        tail = text[stop_at:]
        text = text[:start] + section.rstrip("\n") + (tail if tail.startswith("\n") else "\n" + tail)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'scenario':<30} {'shop rps':>9} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>7} | "
        f"{'ceil rps':>9} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>7} | {'ratio':>6} {'cpu ratio':>9}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        s, c = r["shop"], r["ceiling"]
        print(
            f"{r['name']:<30} {s.rps:>9,.0f} {s.p50_ms:>7.1f} {s.p99_ms:>7.1f} {cpu_ms_per_request(s):>7.2f} | "
            f"{c.rps:>9,.0f} {c.p50_ms:>7.1f} {c.p99_ms:>7.1f} {cpu_ms_per_request(c):>7.2f} | "
            f"{r['ratio']:>6.0%} {r['cpu_ratio']:>9.0%}" + ("" if r["ratio"] >= TARGET else "  < target")
        )


# --------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per scenario and server")
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs the duration is split into")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per scenario and server")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--drop-db", action="store_true", help=f"drop {BENCH_DB} at the end")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--check", action="store_true", help="exit with 1 when the target is not met")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    started = datetime.now().astimezone()
    clock = time.monotonic()
    busy_before = busy_cpu_share()
    workdir = Path(tempfile.mkdtemp(prefix="fupin-bench-"))
    instance = workdir / "instance"
    instance.mkdir()
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, INSTANCE_PATH=str(instance), FLASK_APP="wsgi")
    env.pop("SQLALCHEMY_ECHO", None)
    servers: list[Server] = []
    try:
        print(f"[bench] recreating database {BENCH_DB} and migrating", flush=True)
        recreate_database()
        migration = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if migration.returncode != 0:
            raise RuntimeError(f"flask db upgrade failed:\n{migration.stdout}{migration.stderr}")
        with psycopg.connect(f"{PG_SERVER}/{BENCH_DB}", connect_timeout=5) as conn:
            t = time.monotonic()
            counts = generate(conn)
            conn.commit()
        with psycopg.connect(f"{PG_SERVER}/{BENCH_DB}", autocommit=True, connect_timeout=5) as conn:
            # VACUUM too: a freshly COPY-ed table has no visibility map and unset hint bits, and autovacuum
            # would otherwise start on it in the middle of the measurements.
            conn.execute("VACUUM ANALYZE")
        print(f"[bench] loaded {counts} in {time.monotonic() - t:.1f}s", flush=True)

        shop = start_gunicorn("shop", "wsgi:app", env, ROOT, workdir)
        servers.append(shop)
        wait_ready(shop, SCENARIOS[0][1])

        recorded, totals = {}, {}
        for name, path in SCENARIOS:
            status, headers, body = fetch(shop.url(path))
            payload = json.loads(body)
            if status != 200 or not payload.get("items"):
                raise RuntimeError(f"{name}: the shop answered {status} with no items: {body[:300]!r}")
            totals[path] = payload["total"]
            recorded[path] = {
                "status": status,
                "headers": [[k, v] for k, v in headers if k.lower() in KEPT_HEADERS],
                "body_b64": base64.b64encode(body).decode("ascii"),
            }
        responses_file = workdir / "responses.json"
        responses_file.write_text(json.dumps(recorded), encoding="utf-8")

        ceiling_env = dict(env, CEILING_RESPONSES=str(responses_file))
        ceiling = start_gunicorn("ceiling", "ceiling_app:app", ceiling_env, ROOT / "bench", workdir)
        servers.append(ceiling)
        wait_ready(ceiling, SCENARIOS[0][1])
        for _name, path in SCENARIOS:
            _status, _headers, body = fetch(ceiling.url(path))
            if base64.b64encode(body).decode("ascii") != recorded[path]["body_b64"]:
                raise RuntimeError(f"the ceiling's answer to {path} differs from the shop's")

        monitor = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
        rows = []
        for name, path in SCENARIOS:
            body_bytes = len(base64.b64decode(recorded[path]["body_b64"]))
            row = {"name": name, "path": path, "total": totals[path], "bytes": body_bytes}
            if args.warmup:
                for server in (shop, ceiling):
                    run_wrk(server.url(path), args.warmup, args.threads, args.connections)
                    time.sleep(SETTLE_SECONDS)
            runs: dict[str, list[WrkResult]] = {"shop": [], "ceiling": []}
            for round_no in range(args.rounds):
                for server in (shop, ceiling) if round_no % 2 == 0 else (ceiling, shop):
                    seconds = max(1, round(args.duration / args.rounds))  # wrk takes whole seconds
                    runs[server.name].append(measure(server, path, seconds, args, monitor))
                    time.sleep(SETTLE_SECONDS)
            for who in ("shop", "ceiling"):
                row[who] = result = combine(runs[who])
                print(
                    f"[bench] {name:<30} {who:<8} {result.rps:>8,.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
                    f"p99 {result.p99_ms:6.1f} ms  CPU {cpu_ms_per_request(result):6.2f} ms/req  "
                    f"{', '.join(result.errors)}",
                    flush=True,
                )
            row["ratio"] = row["shop"].rps / row["ceiling"].rps
            row["cpu_ratio"] = cpu_ms_per_request(row["ceiling"]) / cpu_ms_per_request(row["shop"])
            rows.append(row)

        monitor.close()
        print_table(rows)
        for server in servers:
            stop(server)  # before sampling the background load, which they would add to
        context = {
            "counts": counts,
            "machine": machine(),
            "started": started,
            "code": code_state(),
            "busy_before": busy_before,
            "busy_after": busy_cpu_share(),
        }
        if not args.no_docs:
            write_docs(render_section(rows, context, args))
            print(f"\n[bench] wrote the catalog section of {DOCS.relative_to(ROOT)}")
        met = all(r["ratio"] >= TARGET for r in rows)
        print(
            f"[bench] target ({TARGET:.0%} of the ceiling) {'met' if met else 'NOT met'}; "
            f"background CPU {context['busy_before']:.0%} before, {context['busy_after']:.0%} after; "
            f"took {time.monotonic() - clock:.0f}s; {BENCH_DB} is {'dropped' if args.drop_db else 'left in place'}"
        )
        return 1 if args.check and not met else 0
    except BaseException:
        for server in servers:
            print(f"--- last lines of {server.name}'s gunicorn log ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        for server in reversed(servers):
            stop(server)
        if args.drop_db:
            drop_database()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
