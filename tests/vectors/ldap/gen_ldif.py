#!/usr/bin/env python3
"""Writes templates.ldif and ca.ldif of this folder (deterministic; run from anywhere).

templates.ldif: the Public Key Services tree of an AD forest as slapd with
contrib/ldap/opences-adpki.schema holds it ("@SUFFIX@" is replaced by
tests/lib/slapd.sh): the 33 default templates of templates.md section 12,
transcribed from its table below (values as AD stores them: signed flags,
8-byte negative periods, 2-byte key usage), under the forest base OID of
src/directory/directory.h; the real User and WebServer nTSecurityDescriptors of
section 6.4 (the same bytes as tests/vectors/directory/ad_sd_*.bin); the CN=OID
objects of User, Machine and WebServer.
ca.ldif: one pKIEnrollmentService (cACertificate;binary, two CES endpoints).
"""
import base64
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_OID = "1.3.6.1.4.1.311.21.8.4811547.10262861.6392731.1513472.5764349.211"
PKS = "CN=Public Key Services,CN=Services,CN=Configuration,@SUFFIX@"

# templates.md section 12, verbatim
TABLE = """
| 1 | User | User | 1 | 66106 | -1509949440 | 41 | 16 | 2048 | 1 | a0 00 | 1.3.6.1.4.1.311.10.3.4, 1.3.6.1.5.5.7.3.4, 1.3.6.1.5.5.7.3.2 | | 1y | 3.1 | B+E | |
| 2 | UserSignature | User Signature Only | 1 | 66082 | -1509949440 | 32 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.5.5.7.3.4, 1.3.6.1.5.5.7.3.2 | | 1y | 4.1 | D+B+E | |
| 3 | SmartcardUser | Smartcard User | 1 | 66058 | -1509949440 | 9 | 0 | 512 | 1 | a0 00 | 1.3.6.1.5.5.7.3.4, 1.3.6.1.5.5.7.3.2, 1.3.6.1.4.1.311.20.2.2 | | 1y | 11.1 | — | |
| 4 | ClientAuth | Authenticated Session | 1 | 66080 | -2113929216 | 32 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.5.5.7.3.2 | | 1y | 3.1 | D+B+E | |
| 5 | SmartcardLogon | Smartcard Logon | 1 | 66048 | -2113929216 | 0 | 0 | 512 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2, 1.3.6.1.4.1.311.20.2.2 | | 1y | 6.1 | — | |
| 6 | EFS | Basic EFS | 1 | 66104 | -2113929216 | 41 | 16 | 2048 | 1 | 20 00 | 1.3.6.1.4.1.311.10.3.4 | | 1y | 3.1 | B+E | |
| 7 | Administrator | Administrator | 1 | 66106 | -1509949440 | 41 | 16 | 2048 | 1 | a0 00 | 1.3.6.1.4.1.311.10.3.1, 1.3.6.1.4.1.311.10.3.4, 1.3.6.1.5.5.7.3.4, 1.3.6.1.5.5.7.3.2 | | 1y | 4.1 | B+E | |
| 8 | EFSRecovery | EFS Recovery Agent | 1 | 66096 | -2113929216 | 33 | 16 | 2048 | 1 | 20 00 | 1.3.6.1.4.1.311.10.3.4.1 | | 5y | 6.1 | B+E | |
| 9 | CodeSigning | Code Signing | 1 | 66080 | -2113929216 | 32 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.5.5.7.3.3 | | 1y | 3.1 | D+B+E | |
| 10 | CTLSigning | Trust List Signing | 1 | 66080 | -2113929216 | 32 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.4.1.311.10.3.1 | | 1y | 3.1 | D+B+E | |
| 11 | EnrollmentAgent | Enrollment Agent | 1 | 66080 | -2113929216 | 32 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.4.1.311.20.2.1 | | 2y | 4.1 | D+B+E | |
| 12 | EnrollmentAgentOffline | Exchange Enrollment Agent (Offline request) | 1 | 66049 | 1 | 0 | 0 | 1024 | 2 | 80 00 | 1.3.6.1.4.1.311.20.2.1 | | 2y | 4.1 | D+B+E | |
| 13 | MachineEnrollmentAgent | Enrollment Agent (Computer) | 1 | 66144 | 402653184 | 32 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.4.1.311.20.2.1 | | 2y | 5.1 | D+B+E | |
| 14 | Machine | Computer | 1 | 66144 | 402653184 | 32 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2, 1.3.6.1.5.5.7.3.1 | | 1y | 5.1 | SCh | |
| 15 | DomainController | Domain Controller | 1 | 66156 | 419430400 | 41 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2, 1.3.6.1.5.5.7.3.1 | | 1y | 4.1 | SCh | |
| 16 | WebServer | Web Server | 1 | 66113 | 1 | 0 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.1 | | 2y | 4.1 | DH+SCh | |
| 17 | CA | Root Certification Authority | 1 | 65745 | 1 | 0 | 16 | 1024 | 2 | 86 00 | (none) | | 5y | 5.1 | E | crit +2.5.29.19; maxDepth -1 |
| 18 | SubCA | Subordinate Certification Authority | 1 | 66257 | 1 | 0 | 16 | 1024 | 2 | 86 00 | (none) | | 5y | 5.1 | E | crit +2.5.29.19; maxDepth -1 |
| 19 | IPSECIntermediateOnline | IPSec | 1 | 66144 | 402653184 | 32 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.8.2.2 | | 2y | 8.1 | SCh | |
| 20 | IPSECIntermediateOffline | IPSec (Offline request) | 1 | 66113 | 1 | 0 | 0 | 1024 | 1 | a0 00 | 1.3.6.1.5.5.8.2.2 | | 2y | 7.1 | SCh | |
| 21 | OfflineRouter | Router (Offline request) | 1 | 66113 | 1 | 0 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2 | | 2y | 4.1 | SCh | |
| 22 | CEPEncryption | CEP Encryption | 1 | 66113 | 1 | 0 | 0 | 1024 | 1 | 20 00 | 1.3.6.1.4.1.311.20.2.1 | | 2y | 4.1 | SCh | |
| 23 | ExchangeUser | Exchange User | 1 | 66065 | 1 | 1 | 16 | 2048 | 1 | 20 00 | 1.3.6.1.5.5.7.3.4 | | 1y | 7.1 | B+E | |
| 24 | ExchangeUserSignature | Exchange Signature Only | 1 | 66049 | 1 | 0 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.5.5.7.3.4 | | 1y | 6.1 | D+B+E | |
| 25 | CrossCA | Cross Certification Authority | 2 | 67600 | 1 | 8 | 16 | 1024 | 2 | 86 00 | (none) | | 5y | 105.0 | E | RA sig 1, RA app pol 1.3.6.1.4.1.311.10.3.10; crit +2.5.29.19; maxDepth -1 |
| 26 | CAExchange | CA Exchange | 2 | 65600 | 1 | 1 | 0 | 2048 | 1 | 20 00 | 1.3.6.1.4.1.311.21.5 | 1.3.6.1.4.1.311.21.5 | 1w | 106.0 | B+E | overlap 1 day |
| 27 | KeyRecoveryAgent | Key Recovery Agent | 2 | 65568 | -2113929216 | 39 | 16 | 2048 | 1 | 20 00 | 1.3.6.1.4.1.311.21.6 | 1.3.6.1.4.1.311.21.6 | 2y | 105.0 | E | pends (0x2), publishes to KRA (0x4) |
| 28 | DomainControllerAuthentication | Domain Controller Authentication | 2 | 65632 | 134217728 | 32 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2, 1.3.6.1.5.5.7.3.1, 1.3.6.1.4.1.311.20.2.2 | same | 1y | 110.0 | SCh | supersedes DomainController; crit +2.5.29.17 |
| 29 | DirectoryEmailReplication | Directory Email Replication | 2 | 65632 | 150994944 | 41 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.4.1.311.21.19 | same | 1y | 115.0 | SCh | supersedes DomainController; crit +2.5.29.17 |
| 30 | Workstation | Workstation Authentication | 2 | 66144 | 134217728 | 32 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2 | same | 1y | 101.0 | SCh | |
| 31 | RASAndIASServer | RAS and IAS Server | 2 | 66144 | 1207959552 | 32 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2, 1.3.6.1.5.5.7.3.1 | same | 1y | 101.0 | SCh | |
| 32 | OCSPResponseSigning | OCSP Response Signing | 3 | 66112 | 402653184 | 4096 | 0 | 2048 | 2 | 80 00 | 1.3.6.1.5.5.7.3.9 | 1.3.6.1.5.5.7.3.9 | 2w | 101.0 | — | overlap 2 days; RA-App-Policies = CNG triplets (§4.7) |
| 33 | KerberosAuthentication | Kerberos Authentication | 2 | 65632 | 138412032 | 32 | 0 | 2048 | 1 | a0 00 | 1.3.6.1.5.5.7.3.2, 1.3.6.1.5.5.7.3.1, 1.3.6.1.4.1.311.20.2.2, 1.3.6.1.5.2.3.5 | same | 1y | 110.0 | SCh | crit +2.5.29.17 |
"""

CSPS = {
    "B+E": ["2,Microsoft Base Cryptographic Provider v1.0",
            "1,Microsoft Enhanced Cryptographic Provider v1.0"],
    "D+B+E": ["3,Microsoft Base DSS Cryptographic Provider",
              "2,Microsoft Base Cryptographic Provider v1.0",
              "1,Microsoft Enhanced Cryptographic Provider v1.0"],
    "SCh": ["1,Microsoft RSA SChannel Cryptographic Provider"],
    "DH+SCh": ["2,Microsoft DH SChannel Cryptographic Provider",
               "1,Microsoft RSA SChannel Cryptographic Provider"],
    "E": ["1,Microsoft Enhanced Cryptographic Provider v1.0"],
    "\u2014": [],
}
DAYS = {"1y": 365, "2y": 730, "5y": 1825, "2w": 14, "1w": 7}
# templates.md 4.7: the real OCSPResponseSigning value (MS-CRTD 3)
OCSP_RA = ("msPKI-Asymmetric-Algorithm`PZPWSTR`RSA`msPKI-Hash-Algorithm`PZPWSTR`SHA1`"
           "msPKI-Key-Security-Descriptor`PZPWSTR`D:(A;;FA;;;BA)(A;;FA;;;SY)(A;;GR;;;"
           "S-1-5-80-3804348527-3718992918-2141599610-3686422417-2726379419)`"
           "msPKI-Key-Usage`DWORD`2`")


def period(days):
    return base64.b64encode(struct.pack("<q", -days * 86400 * 10**7)).decode()


def b64(data):
    return base64.b64encode(data).decode()


def rows():
    for line in TABLE.strip().splitlines():
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        yield c


def template(c, sds):
    (n, cn, disp, schema, flags, nflag, eflag, pkflag, minkey, keyspec, ku, eku, app,
     exp, rev, csps, extra) = c
    out = ["dn: CN=%s,CN=Certificate Templates,%s" % (cn, PKS),
           "objectClass: top", "objectClass: pKICertificateTemplate",
           "cn: " + cn, "displayName: " + disp, "flags: " + flags]
    major, minor = rev.split(".")
    out += ["revision: " + major, "msPKI-Template-Schema-Version: " + schema,
            "msPKI-Template-Minor-Revision: " + minor,
            "msPKI-Cert-Template-OID: %s.1.%s" % (BASE_OID, n),
            "msPKI-Certificate-Name-Flag: " + nflag, "msPKI-Enrollment-Flag: " + eflag,
            "msPKI-Private-Key-Flag: " + pkflag, "msPKI-Minimal-Key-Size: " + minkey]
    ra_sig = "1" if "RA sig 1" in extra else "0"
    out.append("msPKI-RA-Signature: " + ra_sig)
    crit = ["2.5.29.15"] + [x.split("+")[1].strip() for x in extra.split(";")
                            if x.strip().startswith("crit +")]
    out += ["pKICriticalExtensions: " + x for x in crit]
    out += ["pKIDefaultCSPs: " + x for x in CSPS[csps]]
    out.append("pKIDefaultKeySpec: " + keyspec)
    out.append("pKIExpirationPeriod:: " + period(DAYS[exp]))
    overlap = 42
    if "overlap 1 day" in extra:
        overlap = 1
    if "overlap 2 days" in extra:
        overlap = 2
    out.append("pKIOverlapPeriod:: " + period(overlap))
    ekus = [] if eku == "(none)" else [x.strip() for x in eku.split(",")]
    out += ["pKIExtendedKeyUsage: " + x for x in ekus]
    apps = ekus if app == "same" else ([x.strip() for x in app.split(",")] if app else [])
    out += ["msPKI-Certificate-Application-Policy: " + x for x in apps]
    out.append("pKIKeyUsage:: " + b64(bytes.fromhex(ku.replace(" ", ""))))
    out.append("pKIMaxIssuingDepth: " + ("-1" if "maxDepth -1" in extra else "0"))
    if "RA app pol" in extra:
        out.append("msPKI-RA-Application-Policies: " + extra.split("RA app pol")[1].split(";")[0].strip())
    if cn == "OCSPResponseSigning":
        out.append("msPKI-RA-Application-Policies: " + OCSP_RA)
    if "supersedes DomainController" in extra:
        out.append("msPKI-Supersede-Templates: DomainController")
    if cn in sds:
        out.append("nTSecurityDescriptor:: " + b64(sds[cn]))
    return "\n".join(out) + "\n"


def container(rdn, cls="container"):
    return "dn: %s%s\nobjectClass: top\nobjectClass: %s\ncn: %s\n" % (
        rdn + "," if rdn else "", PKS, cls, (rdn or "CN=Public Key Services")[3:])


def main():
    with open(os.path.join(HERE, "..", "directory", "ad_sd_user.bin"), "rb") as f:
        user_sd = f.read()
    with open(os.path.join(HERE, "..", "directory", "ad_sd_webserver.bin"), "rb") as f:
        web_sd = f.read()
    sds = {"User": user_sd, "WebServer": web_sd}
    parts = ["# generated by gen_ldif.py: do not edit\n",
             "dn: @SUFFIX@\nobjectClass: top\nobjectClass: domain\ndc: corp\n",
             "dn: CN=Configuration,@SUFFIX@\nobjectClass: top\nobjectClass: container\n"
             "cn: Configuration\n",
             "dn: CN=Services,CN=Configuration,@SUFFIX@\nobjectClass: top\n"
             "objectClass: container\ncn: Services\n",
             container("")]
    for rdn in ("CN=Certificate Templates", "CN=Enrollment Services",
                "CN=Certification Authorities", "CN=AIA", "CN=CDP", "CN=KRA"):
        parts.append(container(rdn))
    parts.append("dn: CN=OID,%s\nobjectClass: top\nobjectClass: msPKI-Enterprise-Oid\n"
                 "cn: OID\nmsPKI-Cert-Template-OID: %s\n" % (PKS, BASE_OID))
    # CN=OID children: cn = <last arc>.<MD5 hex>; the cn value only names the entry here
    for n, disp in ((1, "User"), (14, "Computer"), (16, "Web Server")):
        parts.append("dn: CN=%d.OID%d,CN=OID,%s\nobjectClass: top\n"
                     "objectClass: msPKI-Enterprise-Oid\ncn: %d.OID%d\ndisplayName: %s\n"
                     "flags: 1\nmsPKI-Cert-Template-OID: %s.1.%d\n" % (n, n, PKS, n, n, disp,
                                                                       BASE_OID, n))
    for c in rows():
        parts.append(template(c, sds))
    with open(os.path.join(HERE, "templates.ldif"), "w") as f:
        f.write("\n".join(parts))
    with open(os.path.join(HERE, "..", "directory", "certmap_leaf.der"), "rb") as f:
        cert = f.read()
    ces = [b"1\n2\n0\nhttps://ca1.corp.example.test/CA_CES_Kerberos/service.svc/CES\n0",
           b"2\n4\n1\nhttps://ca1.corp.example.test/CA_CES_UsernamePassword/service.svc/CES"]
    ca = ("dn: CN=OpenCES Test CA,CN=Enrollment Services,%s\nobjectClass: top\n"
          "objectClass: pKIEnrollmentService\ncn: OpenCES Test CA\n"
          "displayName: OpenCES Test CA\nflags: 10\ndNSHostName: ca1.corp.example.test\n"
          "cACertificate;binary:: %s\ncertificateTemplates: User\n"
          "certificateTemplates: WebServer\ncertificateTemplates: Machine\n" % (PKS, b64(cert)))
    ca += "".join("msPKI-Enrollment-Servers:: %s\n" % b64(v) for v in ces)
    with open(os.path.join(HERE, "ca.ldif"), "w") as f:
        f.write("# generated by gen_ldif.py: do not edit\n" + ca)


main()
