"""A small investigation graph, written by Cypher following the data contract's model.

Used by the saved-query tests; every expected row in those tests can be traced to the
nodes and relationships below. Two sellers typed spreadsheet formulas as nicknames
(`=1+1`, `@SUM(A1)`), as untrusted input can.
"""

from __future__ import annotations

from neo4j import Driver

DIVISIONS = """
CREATE (gd:Division {adcode: '440000', name: '广东省', level: 'province'})
CREATE (sz:Division {adcode: '440300', name: '深圳市', level: 'city'})-[:PART_OF]->(gd)
CREATE (lg:Division {adcode: '440307', name: '龙岗区', level: 'district'})-[:PART_OF]->(sz)
CREATE (ns:Division {adcode: '440305', name: '南山区', level: 'district'})-[:PART_OF]->(sz)
CREATE (fj:Division {adcode: '350000', name: '福建省', level: 'province'})
CREATE (qz:Division {adcode: '350500', name: '泉州市', level: 'city'})-[:PART_OF]->(fj)
CREATE (jj:Division {adcode: '350582', name: '晋江市', level: 'district'})-[:PART_OF]->(qz)
CREATE (zj:Division {adcode: '330000', name: '浙江省', level: 'province'})
CREATE (hz:Division {adcode: '330100', name: '杭州市', level: 'city'})-[:PART_OF]->(zj)
CREATE (xh:Division {adcode: '330106', name: '西湖区', level: 'district'})-[:PART_OF]->(hz)
CREATE (a1:Address {address_key: 'A1', raw: '龙岗区坂田街道1号', adcode: '440307', province: '广东省'})
       -[:IN_DIVISION]->(lg)
CREATE (a2:Address {address_key: 'A2', raw: '龙岗区布吉街道2号', adcode: '440307', province: '广东省'})
       -[:IN_DIVISION]->(lg)
CREATE (a3:Address {address_key: 'A3', raw: '晋江市陈埭镇3号', adcode: '350582', province: '福建省'})
       -[:IN_DIVISION]->(jj)
"""

BRANDS_SELLERS_SHOPS = """
MATCH (a1:Address {address_key: 'A1'}), (a2:Address {address_key: 'A2'}),
      (a3:Address {address_key: 'A3'})
CREATE (b1:Brand {brand_id: 'B1', name: 'Acme', name_zh: '艾克美'})
CREATE (b2:Brand {brand_id: 'B2', name: 'Bolt'})
CREATE (:Brand {brand_id: 'B3', name: 'Corvo'})
CREATE (i1:Identity {id_hash: 'h-i1', kind: 'id_card'})
CREATE (i2:Identity {id_hash: 'h-i2', kind: 'business_licence'})
CREATE (p1:Phone {e164: '+8613800138000'})
CREATE (e1:Email {email: 'shared@example.cn'})
CREATE (pa1:PaymentAccount {account: 'alipay:pa1', provider: 'alipay'})
CREATE (pa2:PaymentAccount {account: 'alipay:pa2', provider: 'alipay'})
CREATE (pax:PaymentAccount {account: 'bank:pax', provider: 'bank'})
CREATE (pa3:PaymentAccount {account: 'bank:pa3', provider: 'bank'})
CREATE (fp1:Device {device: 'fp:D1', kind: 'fp'})
CREATE (ip1:Device {device: 'ip:10.0.0.1', kind: 'ip'})
CREATE (s1:Seller {seller_id: 'S1', platform: 'taobao', nickname: '一号店主', status: 'active'})
CREATE (s2:Seller {seller_id: 'S2', platform: 'taobao', nickname: '=1+1', status: 'active'})
CREATE (s3:Seller {seller_id: 'S3', platform: 'pinduoduo', nickname: '@SUM(A1)',
        status: 'active'})
CREATE (s4:Seller {seller_id: 'S4', platform: 'taobao', status: 'suspended'})
CREATE (s5:Seller {seller_id: 'S5', platform: 'jd', status: 'active'})
CREATE (s1)-[:HAS_PHONE]->(p1), (s2)-[:HAS_PHONE]->(p1)
CREATE (s1)-[:VERIFIED_AS]->(i1), (s3)-[:VERIFIED_AS]->(i1)
CREATE (s4)-[:VERIFIED_AS]->(i2), (s5)-[:VERIFIED_AS]->(i2)
CREATE (s3)-[:HAS_EMAIL]->(e1)
CREATE (s1)-[:USED_DEVICE]->(fp1)
CREATE (s1)-[:USED_DEVICE]->(ip1), (s2)-[:USED_DEVICE]->(ip1), (s4)-[:USED_DEVICE]->(ip1)
CREATE (s1)-[:PAID_TO]->(pa1), (s4)-[:PAID_TO]->(pa2)
CREATE (pa1)-[:TRANSFERRED_TO {total_cny: 50000.0, count: 5}]->(pax)
CREATE (pax)-[:TRANSFERRED_TO {total_cny: 20000.0, count: 2}]->(pa3)
CREATE (pa2)-[:TRANSFERRED_TO {total_cny: 10000.0, count: 1}]->(pa3)
CREATE (s1)-[:OPERATES]->(sh1:Shop {shop_id: 'SH1', platform: 'taobao', name: '一号店',
        status: 'active', opened_on: date('2023-01-01')})
CREATE (s2)-[:OPERATES]->(sh2:Shop {shop_id: 'SH2', platform: 'taobao', status: 'active',
        opened_on: date('2023-06-01')})
CREATE (s3)-[:OPERATES]->(sh3:Shop {shop_id: 'SH3', platform: 'pinduoduo', status: 'active',
        opened_on: date('2023-02-01')})
CREATE (s4)-[:OPERATES]->(sh4:Shop {shop_id: 'SH4', platform: 'taobao', status: 'closed',
        opened_on: date('2023-03-01'), closed_on: date('2024-03-01')})
CREATE (s4)-[:OPERATES]->(sh5:Shop {shop_id: 'SH5', platform: 'taobao', status: 'active',
        opened_on: date('2024-04-01')})
CREATE (s5)-[:OPERATES]->(sh6:Shop {shop_id: 'SH6', platform: 'jd', status: 'active',
        opened_on: date('2024-05-01')})
CREATE (sh1)-[:SHIPS_FROM]->(a1), (sh1)-[:RETURNS_TO]->(a2), (sh2)-[:SHIPS_FROM]->(a1),
       (sh3)-[:SHIPS_FROM]->(a3), (sh4)-[:SHIPS_FROM]->(a2), (sh5)-[:SHIPS_FROM]->(a2)
CREATE (n1:Network {network_id: 'N1', size: 3, risk_score: 0.9})
CREATE (n2:Network {network_id: 'N2', size: 2, risk_score: 0.4})
CREATE (s1)-[:IN_NETWORK]->(n1), (s2)-[:IN_NETWORK]->(n1), (s3)-[:IN_NETWORK]->(n1),
       (s4)-[:IN_NETWORK]->(n2), (s5)-[:IN_NETWORK]->(n2)
CREATE (pe1:Person {person_id: 'PE1', name: '张三'})-[:OWNS]->(pa3)
CREATE (pe1)-[:CONTROLS]->(s3)
CREATE (site1:Site {site_id: 'SITE1', kind: 'den', status: 'confirmed'})-[:LOCATED_AT]->(a1)
CREATE (site2:Site {site_id: 'SITE2', kind: 'factory', status: 'suspected'})-[:LOCATED_AT]->(a3)
CREATE (pe1)-[:RUNS]->(site2)
"""

LISTINGS_EVIDENCE = """
MATCH (b1:Brand {brand_id: 'B1'}), (b2:Brand {brand_id: 'B2'})
MATCH (sh1:Shop {shop_id: 'SH1'}), (sh2:Shop {shop_id: 'SH2'}), (sh3:Shop {shop_id: 'SH3'}),
      (sh5:Shop {shop_id: 'SH5'})
MATCH (a1:Address {address_key: 'A1'}), (a2:Address {address_key: 'A2'}),
      (a3:Address {address_key: 'A3'})
CREATE (sh1)-[:OFFERS]->(l1:Listing {listing_id: 'L1', title: 'Acme 运动鞋', status: 'live',
        blocked_at_upload: false, first_seen: date('2024-01-10')})-[:CLAIMS_BRAND]->(b1)
CREATE (sh1)-[:OFFERS]->(l2:Listing {listing_id: 'L2', status: 'blocked',
        blocked_at_upload: true, first_seen: date('2024-01-20')})-[:CLAIMS_BRAND]->(b1)
CREATE (sh2)-[:OFFERS]->(l3:Listing {listing_id: 'L3', status: 'live',
        blocked_at_upload: false, first_seen: date('2024-02-05')})-[:CLAIMS_BRAND]->(b1)
CREATE (sh3)-[:OFFERS]->(l4:Listing {listing_id: 'L4', status: 'removed',
        blocked_at_upload: false, first_seen: date('2024-02-10')})-[:CLAIMS_BRAND]->(b2)
CREATE (sh3)-[:OFFERS]->(l5:Listing {listing_id: 'L5', status: 'blocked',
        blocked_at_upload: true, first_seen: date('2024-02-11')})-[:CLAIMS_BRAND]->(b2)
CREATE (sh5)-[:OFFERS]->(l6:Listing {listing_id: 'L6', title: 'Acme 包', status: 'live',
        blocked_at_upload: false, first_seen: date('2024-04-02')})-[:CLAIMS_BRAND]->(b1)
CREATE (shp1:Shipment {shipment_id: 'sf:1', carrier: 'sf', destination_adcode: '330106'})
       -[:ORIGINATES_AT]->(a1)
CREATE (shp1)-[:SENT_BY]->(sh1)
CREATE (shp2:Shipment {shipment_id: 'sf:2', carrier: 'sf', destination_adcode: '330106'})
       -[:ORIGINATES_AT]->(a1)
CREATE (shp2)-[:SENT_BY]->(sh2)
CREATE (shp3:Shipment {shipment_id: 'yt:3', carrier: 'yt', destination_adcode: '440305'})
       -[:ORIGINATES_AT]->(a2)
CREATE (shp3)-[:SENT_BY]->(sh1)
CREATE (shp4:Shipment {shipment_id: 'yt:4', carrier: 'yt', destination_adcode: '330106'})
       -[:ORIGINATES_AT]->(a3)
CREATE (tp1:TestPurchase {purchase_id: 'T1', verdict: 'counterfeit', ordered_on: date('2024-01-15'),
        verdict_on: date('2024-01-25')})-[:BOUGHT]->(l1)
CREATE (tp1)-[:AUTHENTICATED_BY]->(b1), (tp1)-[:DELIVERED_BY]->(shp1)
CREATE (tp2:TestPurchase {purchase_id: 'T2', verdict: 'genuine', ordered_on: date('2024-02-10')})
       -[:BOUGHT]->(l3)
CREATE (tp2)-[:AUTHENTICATED_BY]->(b1)
CREATE (tp3:TestPurchase {purchase_id: 'T3', verdict: 'counterfeit', ordered_on: date('2024-02-12'),
        verdict_on: date('2024-02-20')})-[:BOUGHT]->(l4)
CREATE (tp3)-[:AUTHENTICATED_BY]->(b2)
CREATE (tp4:TestPurchase {purchase_id: 'T4', verdict: 'counterfeit', ordered_on: date('2024-04-05'),
        verdict_on: date('2024-04-12')})-[:BOUGHT]->(l6)
CREATE (tp4)-[:AUTHENTICATED_BY]->(b1)
CREATE (tp5:TestPurchase {purchase_id: 'T5', verdict: 'inconclusive', ordered_on: date('2024-02-13')})
       -[:BOUGHT]->(l5)
CREATE (tp5)-[:AUTHENTICATED_BY]->(b2)
CREATE (b1)-[:FILED]->(:Complaint {complaint_id: 'C1', outcome: 'upheld'})-[:AGAINST]->(l1)
CREATE (b1)-[:FILED]->(:Complaint {complaint_id: 'C2', outcome: 'upheld'})-[:AGAINST]->(sh2)
CREATE (b1)-[:FILED]->(:Complaint {complaint_id: 'C3', outcome: 'rejected'})-[:AGAINST]->(l6)
CREATE (b2)-[:FILED]->(:Complaint {complaint_id: 'C4', outcome: 'upheld'})-[:AGAINST]->(l4)
CREATE (b1)-[:FILED]->(:Complaint {complaint_id: 'C5', outcome: 'upheld'})-[:AGAINST]->(l3)
"""

POLICE = """
MATCH (gd:Division {adcode: '440000'}), (sz:Division {adcode: '440300'}),
      (jj:Division {adcode: '350582'})
CREATE (ag1:Agency {agency_id: 'AG1', name: '深圳市公安局', level: 'city', adcode: '440300'})
       -[:IN_DIVISION]->(sz)
CREATE (ag2:Agency {agency_id: 'AG2', name: '晋江市公安局', level: 'county', adcode: '350582'})
       -[:IN_DIVISION]->(jj)
CREATE (ag3:Agency {agency_id: 'AG3', name: '广东省公安厅', level: 'province', adcode: '440000'})
       -[:IN_DIVISION]->(gd)
CREATE (:Lead {lead_id: 'LD1', status: 'pushed', created_on: date('2023-12-20')})
       -[:PUSHED_TO {pushed_on: date('2024-01-01')}]->(ag1)
CREATE (:Lead {lead_id: 'LD2', status: 'pushed', created_on: date('2024-03-15')})
       -[:PUSHED_TO {pushed_on: date('2024-03-20')}]->(ag1)
CREATE (:Lead {lead_id: 'LD3', status: 'pushed', created_on: date('2024-01-25')})
       -[:PUSHED_TO {pushed_on: date('2024-02-01')}]->(ag2)
CREATE (:Lead {lead_id: 'LD4', status: 'registered', created_on: date('2023-12-01')})
       -[:PUSHED_TO {pushed_on: date('2024-01-01')}]->(ag1)
CREATE (:Case {case_id: 'CS1', title: '坂田窝点案', status: 'raided', opened_on: date('2024-05-01'),
        arrests: 3, dens_destroyed: 1, case_value_cny: 100000.0})-[:HANDLED_BY]->(ag1)
CREATE (:Case {case_id: 'CS2', status: 'closed', opened_on: date('2023-11-01'),
        arrests: 2, dens_destroyed: 0, case_value_cny: 50000.0})-[:HANDLED_BY]->(ag1)
CREATE (:Case {case_id: 'CS3', status: 'investigating', opened_on: date('2024-06-01'),
        arrests: 4, dens_destroyed: 2, case_value_cny: 200000.0})-[:HANDLED_BY]->(ag2)
CREATE (:Case {case_id: 'CS4', status: 'judged', opened_on: date('2024-07-01'),
        arrests: 1, dens_destroyed: 1, case_value_cny: 30000.0})-[:HANDLED_BY]->(ag3)
"""

STATEMENTS = (DIVISIONS, BRANDS_SELLERS_SHOPS, LISTINGS_EVIDENCE, POLICE)


def write_fixture(driver: Driver, database: str) -> None:
    """Empty the database and write the fixture graph."""
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    for statement in STATEMENTS:
        driver.execute_query(statement, database_=database)
