"""Demo cooperatives and products in counties of Hebei and Henan that 2020 reports on poverty relief describe.

The organisations and people are invented; credit codes are well-formed but belong to nobody
(their check characters are computed).
"""

COUNTIES = {
    "raoyang": "131124",
    "shenzhou": "131182",
    "fucheng": "131128",
    "wuyi": "131122",
    "wuqiang": "131123",
    "gucheng": "131126",
    "jizhou": "131103",
    "jiyuan": "419001",
    "zaoyang": "420683",
    "wangjiang": "340827",
}

# (key, name, kind, county, description)
COOPERATIVES = [
    (
        "shenzhou-peach",
        "深州市蜜桃种植专业合作社",
        "cooperative",
        "shenzhou",
        "深州蜜桃产区，带动周边村庄脱贫户种植与采摘务工。",
    ),
    ("fucheng-pear", "阜城县梨果产销专业合作社", "cooperative", "fucheng", "阜城鸭梨与酥梨的收购、分拣与销售。"),
    ("wuyi-duck", "武邑县绿源蛋鸭养殖专业合作社", "cooperative", "wuyi", "林下蛋鸭养殖，咸鸭蛋、松花蛋加工。"),
    ("raoyang-veg", "饶阳县设施蔬菜专业合作社", "cooperative", "raoyang", "大棚番茄、黄瓜、甜椒，订单收购农户蔬菜。"),
    (
        "raoyang-workshop",
        "饶阳县扶贫车间（葡萄包装）",
        "workshop",
        "raoyang",
        "葡萄分拣包装扶贫车间，吸纳留守妇女务工。",
    ),
    ("jizhou-apple", "冀州区苹果种植专业合作社", "cooperative", "jizhou", "冀州红富士苹果，疫情期间滞销二十万斤。"),
    ("wuqiang-herb", "武强县金银花种植专业合作社", "cooperative", "wuqiang", "金银花种植与烘干，入股分红带动贫困户。"),
    ("gucheng-grain", "故城县杂粮加工扶贫车间", "workshop", "gucheng", "小米、绿豆、红豆等杂粮加工。"),
    ("jiyuan-rabbit", "济源市山区肉兔养殖专业合作社", "cooperative", "jiyuan", "太行山区肉兔养殖与冷鲜加工。"),
    (
        "jiyuan-walnut",
        "济源市核桃与冬凌草产业有限公司",
        "leading_enterprise",
        "jiyuan",
        "核桃、冬凌草茶的龙头企业，保底收购。",
    ),
    ("zaoyang-peach", "枣阳市桃园专业合作社", "cooperative", "zaoyang", "枣阳油桃与水蜜桃，六千吨桃子曾因疫情滞销。"),
    (
        "wangjiang-tea",
        "望江县茶叶与挑花工艺合作社",
        "cooperative",
        "wangjiang",
        "望江茶叶与国家级非遗望江挑花手工艺品。",
    ),
]

# (cooperative key, name, category, unit, price in fen, stock, minimum order, description)
PRODUCTS = [
    ("shenzhou-peach", "深州蜜桃 精品礼盒", "fruit", "箱", 8800, 300, 1, "果大汁多，香甜可口，每箱12枚。"),
    ("shenzhou-peach", "深州蜜桃 家庭装", "fruit", "斤", 680, 2000, 5, "产地直发，五斤起订。"),
    ("shenzhou-peach", "蜜桃果脯", "other", "袋", 1990, 500, 1, "低糖烘制的蜜桃干。"),
    ("shenzhou-peach", "黄桃罐头", "other", "罐", 1280, 800, 2, "当季黄桃手工装罐。"),
    ("fucheng-pear", "阜城鸭梨", "fruit", "斤", 350, 5000, 10, "皮薄肉细，汁多味甜。"),
    ("fucheng-pear", "阜城酥梨 礼盒", "fruit", "箱", 6800, 400, 1, "精选大果，每箱9斤。"),
    ("fucheng-pear", "秋梨膏", "other", "瓶", 3900, 300, 1, "鸭梨熬制，润燥止咳。"),
    ("wuyi-duck", "武邑咸鸭蛋", "meat_eggs", "盒", 3600, 600, 1, "林下散养蛋鸭，红心流油，每盒20枚。"),
    ("wuyi-duck", "鲜鸭蛋", "meat_eggs", "斤", 890, 1500, 5, "当天收集的新鲜鸭蛋。"),
    ("wuyi-duck", "松花蛋", "meat_eggs", "盒", 2800, 400, 1, "传统工艺，每盒20枚。"),
    ("wuyi-duck", "卤鸭蛋 即食装", "meat_eggs", "袋", 1590, 700, 1, "开袋即食。"),
    ("raoyang-veg", "饶阳番茄", "vegetables", "斤", 450, 3000, 5, "大棚自然成熟，沙瓤多汁。"),
    ("raoyang-veg", "水果黄瓜", "vegetables", "斤", 520, 2000, 5, "清脆爽口，可生吃。"),
    ("raoyang-veg", "彩椒组合", "vegetables", "箱", 3900, 500, 1, "红黄绿三色甜椒，每箱5斤。"),
    ("raoyang-veg", "时令蔬菜箱", "vegetables", "箱", 5900, 300, 1, "八种当季蔬菜，每周配送。"),
    ("raoyang-workshop", "饶阳葡萄 夏黑", "fruit", "箱", 7900, 400, 1, "无核夏黑葡萄，每箱5斤。"),
    ("raoyang-workshop", "饶阳葡萄 阳光玫瑰", "fruit", "箱", 12800, 200, 1, "玫瑰香味，脆甜无核。"),
    ("jizhou-apple", "冀州红富士苹果", "fruit", "斤", 420, 20000, 10, "脆甜多汁，十斤起订。"),
    ("jizhou-apple", "冀州苹果 礼盒装", "fruit", "箱", 5800, 1000, 1, "80果径以上，每箱18枚。"),
    ("jizhou-apple", "苹果醋", "other", "瓶", 2500, 600, 2, "苹果自然发酵。"),
    ("wuqiang-herb", "武强金银花 特级", "herbs", "罐", 6800, 300, 1, "头茬花蕾，低温烘干，每罐100克。"),
    ("wuqiang-herb", "金银花茶 袋泡", "tea", "盒", 3200, 500, 1, "每盒30袋。"),
    ("wuqiang-herb", "金银花露", "other", "箱", 4800, 300, 1, "清热饮品，每箱12瓶。"),
    ("gucheng-grain", "故城小米", "grain_oil", "袋", 2600, 1000, 1, "新米，每袋2.5公斤。"),
    ("gucheng-grain", "绿豆", "grain_oil", "袋", 1800, 800, 1, "颗粒饱满，每袋1公斤。"),
    ("gucheng-grain", "杂粮组合礼盒", "grain_oil", "盒", 8800, 300, 1, "小米、绿豆、红豆、黑米、燕麦。"),
    ("gucheng-grain", "冷榨花生油", "grain_oil", "桶", 9800, 400, 1, "本地花生冷榨，每桶5升。"),
    ("jiyuan-rabbit", "济源冷鲜兔肉", "meat_eggs", "kg", 6800, 500, 1, "山区散养肉兔，冷鲜直发。"),
    ("jiyuan-rabbit", "麻辣兔丁", "meat_eggs", "袋", 2900, 800, 1, "开袋即食。"),
    ("jiyuan-rabbit", "五香兔腿", "meat_eggs", "袋", 3500, 600, 1, "每袋4只。"),
    ("jiyuan-walnut", "济源薄皮核桃", "other", "袋", 4500, 700, 1, "手捏即开，每袋2斤。"),
    ("jiyuan-walnut", "冬凌草茶", "tea", "盒", 5600, 400, 1, "太行山野生冬凌草。"),
    ("jiyuan-walnut", "核桃仁", "other", "罐", 3900, 500, 1, "去壳核桃仁，每罐500克。"),
    ("zaoyang-peach", "枣阳油桃", "fruit", "斤", 580, 6000, 5, "脆甜油桃，五斤起订。"),
    ("zaoyang-peach", "枣阳水蜜桃 礼盒", "fruit", "箱", 7800, 600, 1, "软糯多汁，每箱12枚。"),
    ("zaoyang-peach", "桃花蜂蜜", "other", "瓶", 6800, 300, 1, "桃园放蜂所产。"),
    ("wangjiang-tea", "望江绿茶", "tea", "盒", 12800, 200, 1, "明前采摘，每盒250克。"),
    ("wangjiang-tea", "望江挑花 手工桌旗", "crafts", "个", 16800, 50, 1, "国家级非遗挑花工艺，手工绣制。"),
    ("wangjiang-tea", "望江挑花 手工布包", "crafts", "个", 9800, 80, 1, "当地绣娘手工制作。"),
    ("wangjiang-tea", "望江红茶", "tea", "盒", 9800, 200, 1, "工夫红茶，每盒200克。"),
]

# The demo's buyer unit: a county bureau with its own canteen (credit code: 1 = organ, 1 = state organ).
ORGANIZATION = {
    "key": "demo-unit",
    "name": "深州市农业农村局（演示）",
    "county_code": "131182",
    "kind": "government_agency",
    "canteen_status": "own",
}

# email, display name, role, scope (cooperative key, organization key, or region code)
USERS = [
    ("operator@fupin.demo", "平台运营（演示）", "operator", None),
    ("consumer@fupin.demo", "消费者（演示）", "consumer", None),
    ("coop@fupin.demo", "合作社员工（演示）", "cooperative_staff", "shenzhou-peach"),
    ("orgadmin@fupin.demo", "单位管理员（演示）", "org_admin", "demo-unit"),
    ("purchaser@fupin.demo", "单位采购员（演示）", "org_purchaser", "demo-unit"),
    ("approver@fupin.demo", "单位审批人（演示）", "org_approver", "demo-unit"),
    ("county@fupin.demo", "县级审核员（演示）", "county_reviewer", "131182"),
    ("province@fupin.demo", "省级审核员（演示）", "province_reviewer", "130000"),
]
DEMO_PASSWORD = "fupin-demo-2026"  # noqa: S105  (printed by seed-demo; demo only)
