#!/bin/sh
# Regenerates the MS-WSTEP test vectors (docs/protocol/wstep.md sections 9.1-9.3)
# with real DER made by the openssl CLI. Run from anywhere; writes next to itself.
# Outputs:
#   cepces.csr.der       PKCS#10 as certmonger makes it (template ext 1.3.6.1.4.1.311.20.2 "Machine")
#   windows.cmc.der      CMC request: CMS signedData, eContentType id-cct-PKIData, tcr{1, PKCS#10}
#   cert.der             an issued end-entity certificate (for the renderers)
#   response.p7b.der     a PKCS#7 certs-only stand-in for the CMC full response
#   issue-cepces.xml     9.1 Issue request, cepces v0.3.17 shape
#   query-cepces.xml     9.2 QueryTokenStatus request, cepces shape (RequestID 42)
#   query-windows.xml    9.2 QueryTokenStatus, Windows shape (RequestID 65, no BST)
#   issue-windows.xml    9.3 Issue request, Windows shape, AdditionalContext, "&#13;" line breaks
set -eu
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/key.pem" 2>/dev/null

# 9.1: the certmonger CSR of "getcert request -T Machine"
openssl req -new -key "$T/key.pem" -subj "/CN=fedora2" \
    -addext "subjectAltName=DNS:fedora2.example.com" \
    -addext "extendedKeyUsage=serverAuth" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:Machine" \
    -outform DER -out cepces.csr.der

# 9.3: a Windows-like CMC request around a PKCS#10 naming template "WebServer"
openssl req -new -key "$T/key.pem" -subj "/CN=win10.example.com" \
    -addext "1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:WebServer" \
    -outform DER -out "$T/inner.csr.der"
python3 - "$T/inner.csr.der" "$T/pkidata.der" <<'PY'
import sys
def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body
csr = open(sys.argv[1], 'rb').read()
tcr = tlv(0xA0, tlv(0x02, b'\x01') + csr)           # [0] IMPLICIT TaggedCertificationRequest
pkidata = tlv(0x30, tlv(0x30, b'') + tlv(0x30, tcr) + tlv(0x30, b'') + tlv(0x30, b''))
open(sys.argv[2], 'wb').write(pkidata)
PY
openssl req -x509 -new -key "$T/key.pem" -subj "/CN=win10.example.com" -days 1 \
    -out "$T/signer.pem"
openssl cms -sign -binary -nodetach -nosmimecap -md sha256 \
    -econtent_type 1.3.6.1.5.5.7.12.2 -in "$T/pkidata.der" \
    -signer "$T/signer.pem" -inkey "$T/key.pem" -outform DER -out windows.cmc.der

# Issued certificate and a PKCS#7 for the response renderers
openssl req -x509 -new -key "$T/key.pem" -subj "/CN=fedora2" -days 365 \
    -addext "subjectAltName=DNS:fedora2.example.com" -outform DER -out cert.der
openssl x509 -inform DER -in cert.der -out "$T/cert.pem"
openssl crl2pkcs7 -nocrl -certfile "$T/cert.pem" -outform DER -out response.p7b.der

b64_64() { openssl base64 -e -A -in "$1" | fold -w 64; }

# 9.1 (one line but inside the BST; PEM body lines joined with "\n")
{
printf '%s' '<ns0:Envelope xmlns:ns0="http://www.w3.org/2003/05/soap-envelope" xmlns:ns1="http://www.w3.org/2005/08/addressing" xmlns:ns2="http://docs.oasis-open.org/ws-sx/ws-trust/200512" xmlns:ns3="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:ns4="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><ns0:Header><ns1:Action ns0:mustUnderstand="1">http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep</ns1:Action><ns1:MessageID>urn:uuid:bc7ef851-2ddd-454a-af67-ca7ffab57d60</ns1:MessageID><ns1:To ns0:mustUnderstand="1">https://ca.example.com/Example%20CA_CES_Kerberos/service.svc/CES</ns1:To></ns0:Header><ns0:Body><ns2:RequestSecurityToken><ns2:TokenType>http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3</ns2:TokenType><ns2:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</ns2:RequestType><ns3:BinarySecurityToken ValueType="http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10" EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary" ns4:Id="">'
b64_64 cepces.csr.der | sed -n '$!p' 
b64_64 cepces.csr.der | tail -n 1 | tr -d '\n'
printf '%s' '</ns3:BinarySecurityToken></ns2:RequestSecurityToken></ns0:Body></ns0:Envelope>'
} > issue-cepces.xml

# 9.2 verbatim
printf '%s' '<ns0:Envelope xmlns:ns0="http://www.w3.org/2003/05/soap-envelope" xmlns:ns1="http://www.w3.org/2005/08/addressing" xmlns:ns2="http://docs.oasis-open.org/ws-sx/ws-trust/200512" xmlns:ns3="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:ns4="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" xmlns:ns5="http://schemas.microsoft.com/windows/pki/2009/01/enrollment"><ns0:Header><ns1:Action ns0:mustUnderstand="1">http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep</ns1:Action><ns1:MessageID>urn:uuid:08ca649c-100e-400d-8d35-7fe120116442</ns1:MessageID><ns1:To ns0:mustUnderstand="1">https://ca.example.com/Example%20CA_CES_Kerberos/service.svc/CES</ns1:To></ns0:Header><ns0:Body><ns2:RequestSecurityToken><ns2:TokenType>http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3</ns2:TokenType><ns2:RequestType>http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus</ns2:RequestType><ns3:BinarySecurityToken ValueType="http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10" EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary" ns4:Id="" /><ns5:RequestID>42</ns5:RequestID></ns2:RequestSecurityToken></ns0:Body></ns0:Envelope>' > query-cepces.xml

# 9.2, Windows form [spec 4.1.3.1]
cat > query-windows.xml <<'XML'
<s:Envelope xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:s="http://www.w3.org/2003/05/soap-envelope">
  <s:Header>
    <a:Action s:mustUnderstand="1">http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep</a:Action>
    <a:MessageID>urn:uuid:1a8b5f1c-53c4-4e0a-9a55-1b2c3d4e5f60</a:MessageID>
    <a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>
  </s:Header>
  <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <RequestSecurityToken PreferredLanguage="en-US" xmlns="http://docs.oasis-open.org/ws-sx/ws-trust/200512">
      <TokenType>http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3</TokenType>
      <RequestType>http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus</RequestType>
      <RequestID xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollment">65</RequestID>
    </RequestSecurityToken>
  </s:Body>
</s:Envelope>
XML

# 9.3 with the AdditionalContext of section 5.4 (+ CertificateTemplate, section 5.3 item 4)
{
cat <<'XML'
<s:Envelope xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:s="http://www.w3.org/2003/05/soap-envelope">
  <s:Header>
    <a:Action s:mustUnderstand="1">http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep</a:Action>
    <a:MessageID>urn:uuid:b5d1a601-5091-4a7d-b34b-5204c18b5919</a:MessageID>
    <a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>
  </s:Header>
  <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <RequestSecurityToken PreferredLanguage="en-US" xmlns="http://docs.oasis-open.org/ws-sx/ws-trust/200512">
      <TokenType>http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3</TokenType>
      <RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</RequestType>
XML
printf '%s' '      <BinarySecurityToken EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary" ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#PKCS7" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
b64_64 windows.cmc.der | sed -n '$!p' | sed 's/$/\&#13;/'
b64_64 windows.cmc.der | tail -n 1 | tr -d '\n'
printf '%s\n' '</BinarySecurityToken>'
cat <<'XML'
      <AdditionalContext xmlns="http://schemas.xmlsoap.org/ws/2006/12/authorization">
        <ContextItem Name="CertificateTemplate"><Value>WebServer</Value></ContextItem>
        <ContextItem Name="cdc"><Value>dc1.example.com</Value></ContextItem>
        <ContextItem Name="rmd"><Value>win10.example.com</Value></ContextItem>
        <ContextItem Name="ccm"><Value>win10.example.com</Value></ContextItem>
      </AdditionalContext>
      <RequestID xsi:nil="true" xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollment" />
    </RequestSecurityToken>
  </s:Body>
</s:Envelope>
XML
} > issue-windows.xml
