#!/usr/bin/env python3
"""Writes the ad_* vectors of this folder (run from anywhere; deterministic).

ad_sd_*.bin: self-relative security descriptors of templates.md 6.4 (User and
WebServer, the real SDDL transcribed with the domain of
tests/unit/test_directory_sid.c), header, DACL, owner, group in that order.
ad_attr_*.bin: fuzz seeds for fuzz_directory_attr: one selector byte
(0 flags, 1 period, 2 key usage, 3 CSP, 4 RA application policies,
5 enrollment servers) and the LDAP value.
"""
import os
import struct
import uuid

DOM = "S-1-5-21-3948352448-806306152-211583070"
ENROLL = "0e10c968-78fb-11d2-90d4-00c04f79dc55"
HERE = os.path.dirname(os.path.abspath(__file__))


def sid(text):
    parts = text.split("-")
    assert parts[0] == "S" and parts[1] == "1"
    subs = [int(x) for x in parts[3:]]
    return struct.pack("<BB", 1, len(subs)) + int(parts[2]).to_bytes(6, "big") + \
        b"".join(struct.pack("<I", s) for s in subs)


def ace(typ, flags, mask, sidtext, obj=None):
    body = struct.pack("<I", mask)
    if typ in (5, 6):
        body += struct.pack("<I", 1 if obj else 0)
        if obj:
            body += uuid.UUID(obj).bytes_le
    body += sid(sidtext)
    return struct.pack("<BBH", typ, flags, 4 + len(body)) + body


def sd(owner, group, aces, control=0x9404):
    acl_body = b"".join(aces)
    acl = struct.pack("<BBHHH", 4, 0, 8 + len(acl_body), len(aces), 0) + acl_body
    o = sid(owner)
    g = sid(group)
    hdr = struct.pack("<BBHIIII", 1, 0, control, 20 + len(acl), 20 + len(acl) + len(o), 0, 20)
    return hdr + acl + o + g


EA, DA, DU, AU = DOM + "-519", DOM + "-512", DOM + "-513", "S-1-5-11"
# O:EAG:EAD:PAI(A;;LCRPLORC;;;AU)(A;;CCDCLCSWRPWPDTLOSDRCWDWO;;;DA)(A;;CCDCLCSWRPWPDTLOSDRCWDWO;;;EA)
# (OA;;RPWPCR;Enroll;;DA)(OA;;RPWPCR;Enroll;;DU)(OA;;RPWPCR;Enroll;;EA)
USER = sd(EA, EA, [ace(0, 0, 0x20094, AU), ace(0, 0, 0xF00FF, DA), ace(0, 0, 0xF00FF, EA),
                   ace(5, 0, 0x130, DA, ENROLL), ace(5, 0, 0x130, DU, ENROLL),
                   ace(5, 0, 0x130, EA, ENROLL)])
# O:EAG:EAD:PAI(OA;;0x130;Enroll;;DA)(OA;;0x130;Enroll;;EA)(A;;0xf00ff;;;DA)(A;;0xf00ff;;;EA)(A;;0x20094;;;AU)
WEB = sd(EA, EA, [ace(5, 0, 0x130, DA, ENROLL), ace(5, 0, 0x130, EA, ENROLL),
                  ace(0, 0, 0xF00FF, DA), ace(0, 0, 0xF00FF, EA), ace(0, 0, 0x20094, AU)])

ATTRS = {
    "flags_user": (0, b"-1509949440"),
    "flags_efs": (0, b"-2113929216"),
    "period_1y": (1, bytes.fromhex("004039872ee1feff")),
    "period_6w": (1, bytes.fromhex("0080a60affdeffff")),
    "ku_a000": (2, bytes.fromhex("a000")),
    "csp": (3, b"1,Microsoft RSA SChannel Cryptographic Provider"),
    "ra_ocsp": (4, b"msPKI-Asymmetric-Algorithm`PZPWSTR`RSA`msPKI-Hash-Algorithm`PZPWSTR`SHA1`"
                   b"msPKI-Key-Security-Descriptor`PZPWSTR`D:(A;;FA;;;BA)(A;;FA;;;SY)"
                   b"(A;;GR;;;S-1-5-80-3804348527-3718992918-2141599610-3686422417-2726379419)`"
                   b"msPKI-Key-Usage`DWORD`2`"),
    "ra_oid": (4, b"1.3.6.1.4.1.311.20.2.1"),
    "ces": (5, b"1\n2\n0\nhttps://ca1.example.com/EXAMPLE-CA_CES_Kerberos/service.svc/CES\n0"),
}

if __name__ == "__main__":
    for name, data in (("ad_sd_user.bin", USER), ("ad_sd_webserver.bin", WEB)):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    for name, (sel, val) in ATTRS.items():
        with open(os.path.join(HERE, "ad_attr_%s.bin" % name), "wb") as f:
            f.write(bytes([sel]) + val)
