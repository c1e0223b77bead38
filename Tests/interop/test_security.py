"""Interop for the OCPP 1.6 security extension through the real binary with the `ocpp` package as the
charger: our CA signing a charger's CSR (SignCertificate → CertificateSigned), security profiles 2 and 3
over wss, AuthorizationKey rotation, security events, and TriggerMessage / ExtendedTriggerMessage."""
import asyncio
import base64
import http.client
import json
import os
import ssl
import stat
import time
import warnings
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from harness import Server, run_cli
from test_ocpp16 import ENV, SimulatedCharger, admin, make_station
from test_reservations import Api

PASSWORD = "0123456789abcdefSECURE"
# Every 1.6 MessageTrigger, and the security extension's ExtendedTriggerMessage values.
TRIGGERS = ["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
            "MeterValues", "StatusNotification"]
EXTENDED_TRIGGERS = ["BootNotification", "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat",
                     "MeterValues", "SignChargePointCertificate", "StatusNotification"]


def now_stamp():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def csr_for(common_name, key=None):
    """A PEM PKCS#10 request with `common_name`, and its key (P-256 unless given)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Interop"),
                                        x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
               .sign(key, hashes.SHA256()))
    return request.public_bytes(serialization.Encoding.PEM).decode(), key


def common_name(certificate):
    return certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def self_signed(name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    moment = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(moment - timedelta(minutes=5))
                   .not_valid_after(moment + timedelta(days=1)).sign(key, hashes.SHA256()))
    return certificate, key


def basic(station_id, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{station_id}:{password}".encode()).decode()}


class SecureCharger(SimulatedCharger):
    """A charger with the security extension: keeps the certificate chains, configuration changes
    and triggers it is sent, answers what the test sets, and sends what a trigger asks for after
    answering it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.chains = []
        self.chain_answer = "Accepted"
        self.changes = []
        self.change_answer = "Accepted"
        self.triggers = []
        self.extended_triggers = []
        self.trigger_answer = "Accepted"
        # (action, the server's answer) of each message a trigger made this charger send.
        self.triggered = []
        self.triggered_key = None

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain, **kwargs):
        self.chains.append(certificate_chain)
        return call_result.CertificateSigned(status=self.chain_answer)

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **kwargs):
        self.changes.append((key, value))
        return call_result.ChangeConfiguration(status=self.change_answer)

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message, connector_id=None, **kwargs):
        self.triggers.append((requested_message, connector_id))
        return call_result.TriggerMessage(status=self.trigger_answer)

    @on(Action.extended_trigger_message)
    def on_extended_trigger_message(self, requested_message, connector_id=None, **kwargs):
        self.extended_triggers.append((requested_message, connector_id))
        return call_result.ExtendedTriggerMessage(status=self.trigger_answer)

    # The triggered message goes out after the answer; from a task, since a call made inside the
    # handler would wait for an answer that this very loop has to read.
    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message, connector_id=None, **kwargs):
        if self.trigger_answer == "Accepted":
            asyncio.create_task(self.send_triggered(requested_message, connector_id))

    @after(Action.extended_trigger_message)
    def after_extended_trigger_message(self, requested_message, connector_id=None, **kwargs):
        if self.trigger_answer == "Accepted":
            asyncio.create_task(self.send_triggered(requested_message, connector_id))

    async def send_triggered(self, message, connector_id):
        if message == "BootNotification":
            request = call.BootNotification(charge_point_model="M", charge_point_vendor="V")
        elif message == "Heartbeat":
            request = call.Heartbeat()
        elif message == "StatusNotification":
            request = call.StatusNotification(connector_id=connector_id or 0, error_code="NoError", status="Available")
        elif message == "MeterValues":
            request = call.MeterValues(connector_id=connector_id or 0, meter_value=[{"timestamp": now_stamp(), "sampledValue": [
                {"value": "1234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}])
        elif message == "DiagnosticsStatusNotification":
            request = call.DiagnosticsStatusNotification(status="Idle")
        elif message == "FirmwareStatusNotification":
            request = call.FirmwareStatusNotification(status="Idle")
        elif message == "LogStatusNotification":
            request = call.LogStatusNotification(status="Idle", request_id=0)
        elif message == "SignChargePointCertificate":
            csr, self.triggered_key = csr_for(self.id)
            request = call.SignCertificate(csr=csr)
        else:
            raise AssertionError(f"no such trigger {message}")
        self.triggered.append((message, await self.call(request)))


async def eventually(predicate, timeout=5.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def plugged_in(url, station_id, charger_class=None, **kwargs):
    """A booted charger on `url` (ws or wss)."""
    ws = await websockets.connect(f"{url}/ocpp/{station_id}", subprotocols=["ocpp1.6"], **kwargs)
    charger = (charger_class or SecureCharger)(station_id, ws)
    task = asyncio.create_task(charger.start())
    boot = await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
    assert boot.status == "Accepted", boot
    return ws, charger, task


async def unplug(ws, task):
    task.cancel()
    await ws.close()


async def handshake_status(url, **kwargs):
    """The HTTP status the upgrade got: 101, or the refusal's."""
    try:
        ws = await websockets.connect(url, subprotocols=["ocpp1.6"], open_timeout=5, **kwargs)
    except websockets.exceptions.InvalidStatus as refused:
        return refused.response.status_code
    await ws.close()
    return 101


def set_password(server, headers, station_id, password=PASSWORD):
    status, body, _ = server.json("PUT", f"/api/v1/stations/{station_id}/credentials", {"password": password}, headers)
    assert status == 204, body


def set_profile(server, headers, station_id, profile):
    status, body, _ = server.json("PATCH", f"/api/v1/stations/{station_id}", {"securityProfile": profile}, headers)
    assert status == 200 and body["securityProfile"] == profile, body


def our_ca(server, headers):
    status, _, raw = server.request("GET", "/api/v1/certificate-authority", headers=headers)
    assert status == 200, raw
    return x509.load_pem_x509_certificate(raw)


def certificates(server, headers, station_id):
    status, body, _ = server.json("GET", f"/api/v1/stations/{station_id}/certificates", headers=headers)
    assert status == 200, body
    return body["items"]


async def signed_certificate(charger, station_id, ca):
    """The charger's CSR signed by our CA through SignCertificate → CertificateSigned, checked:
    the leaf (for the charger's own key, with its identity) and our CA behind it."""
    csr, key = csr_for(station_id)
    answer = await charger.call(call.SignCertificate(csr=csr))
    assert answer.status == "Accepted"
    await eventually(lambda: charger.chains, what="CertificateSigned")
    [chain] = charger.chains
    leaf, *rest = x509.load_pem_x509_certificates(chain.encode())
    assert [certificate.fingerprint(hashes.SHA256()) for certificate in rest] == [ca.fingerprint(hashes.SHA256())]
    assert common_name(leaf) == station_id
    leaf.verify_directly_issued_by(ca)
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert ExtendedKeyUsageOID.CLIENT_AUTH in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    return leaf, key


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=ENV).start()
    yield instance
    instance.stop()


def test_our_ca_is_kept_owner_only_and_a_csr_over_plain_ws_is_rejected(server, data_dir):
    headers = admin(server)
    make_station(server, headers, "CP-SIGN-1")
    ca = our_ca(server, headers)
    assert (data_dir / "ca" / "ca.pem").read_bytes().strip() == ca.public_bytes(serialization.Encoding.PEM).strip()
    assert stat.S_IMODE(os.stat(data_dir / "ca" / "ca-key.pem").st_mode) == 0o600
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    async def scenario():
        # Over plain ws the charger proved nothing a certificate could later stand in for: no
        # certificate, whatever it asks (it gets one over TLS with its password; see below).
        ws, charger, task = await plugged_in(f"ws://127.0.0.1:{server.port}", "CP-SIGN-1")
        answer = await charger.call(call.SignCertificate(csr=csr_for("CP-SIGN-1")[0]))
        assert answer.status == "Rejected"
        await asyncio.sleep(0.3)
        assert charger.chains == [] and certificates(server, headers, "CP-SIGN-1") == []
        await unplug(ws, task)

    asyncio.run(scenario())


class TLSServer(Server):
    """The server over HTTPS and WSS, with our CA as the trusted root."""

    def __init__(self, data_dir, tls_dir, env):
        super().__init__(data_dir, extra_args=["--tls-cert", str(tls_dir / "server.pem"), "--tls-key", str(tls_dir / "server-key.pem")],
                         env=env)
        self.base = f"https://localhost:{self.port}"
        self.context = ssl.create_default_context(cafile=str(tls_dir / "ca.pem"))

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=10)
        try:
            connection.request(method, path, None if body is None else json.dumps(body).encode(),
                               {"Content-Type": "application/json", **(headers or {})})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


def test_security_profiles_2_and_3_over_wss_with_our_ca(data_dir):
    tls_dir = data_dir.parent / "tls"
    # First without TLS: a profile-2 station is refused on plain ws even with its password.
    plain = Server(data_dir, env=ENV).start()
    try:
        headers = admin(plain)
        for station_id in ("CP-TLS-2", "CP-TLS-3", "CP-TLS-3B", "CP-TLS-NOPW"):
            make_station(plain, headers, station_id)
        for station_id in ("CP-TLS-2", "CP-TLS-3"):
            set_password(plain, headers, station_id)
            set_profile(plain, headers, station_id, 2)
        set_profile(plain, headers, "CP-TLS-3B", 3)
        set_profile(plain, headers, "CP-TLS-NOPW", 2)
        code = asyncio.run(handshake_status(f"ws://127.0.0.1:{plain.port}/ocpp/CP-TLS-2", additional_headers=basic("CP-TLS-2", PASSWORD)))
        assert code == 403
    finally:
        plain.stop()

    issued = run_cli("issue-server-certificate", "--data", str(data_dir), "--hostname", "localhost", "--out", str(tls_dir))
    assert issued.returncode == 0, issued.stderr
    ca_pem = (data_dir / "ca" / "ca.pem").read_bytes()
    assert (tls_dir / "ca.pem").read_bytes().strip() == ca_pem.strip()
    assert stat.S_IMODE(os.stat(tls_dir / "server-key.pem").st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(ca_pem)
    served, *chain = x509.load_pem_x509_certificates((tls_dir / "server.pem").read_bytes())
    assert chain == [ca]
    served.verify_directly_issued_by(ca)
    assert served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == ["localhost"]

    server = TLSServer(data_dir, tls_dir, ENV).start()
    try:
        headers = admin(server)
        status, body, _ = server.json("GET", "/health")
        assert (status, body) == (200, {"status": "ok"})
        # Without our CA as a root, the server's certificate is not trusted.
        with pytest.raises(ssl.SSLCertVerificationError):
            http.client.HTTPSConnection("localhost", server.port, context=ssl.create_default_context(), timeout=5).request("GET", "/health")
        wss = f"wss://localhost:{server.port}"
        api = Api(server, headers)

        def trusting(certificate=None, key=None):
            context = ssl.create_default_context(cafile=str(tls_dir / "ca.pem"))
            if certificate is not None:
                certificate_file, key_file = tls_dir / f"client-{common_name(certificate)}.pem", tls_dir / f"client-{common_name(certificate)}-key.pem"
                certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
                key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
                context.load_cert_chain(str(certificate_file), str(key_file))
            return context

        async def scenario():
            # Profile 2: TLS and Basic auth.
            ws, charger, task = await plugged_in(wss, "CP-TLS-2", ssl=trusting(), additional_headers=basic("CP-TLS-2", PASSWORD))
            status, station = await api("GET", "/api/v1/stations/CP-TLS-2")
            assert station["connection"]["connected"] is True
            await unplug(ws, task)
            assert await handshake_status(f"{wss}/ocpp/CP-TLS-2", ssl=trusting(), additional_headers=basic("CP-TLS-2", "wrong-password-0000")) == 401
            assert await handshake_status(f"{wss}/ocpp/CP-TLS-2", ssl=trusting()) == 401
            assert await handshake_status(f"{wss}/ocpp/CP-TLS-NOPW", ssl=trusting()) == 401

            # Profile 3: the charger gets its certificate over its profile-2 connection, then uses it.
            ws, charger, task = await plugged_in(wss, "CP-TLS-3", ssl=trusting(), additional_headers=basic("CP-TLS-3", PASSWORD))
            certificate, key = await signed_certificate(charger, "CP-TLS-3", ca)
            # The charger's Accepted is what marks it installed.
            await eventually(lambda: [item["status"] for item in certificates(server, headers, "CP-TLS-3")] == ["installed"],
                             what="the certificate installed")
            [item] = certificates(server, headers, "CP-TLS-3")
            assert x509.load_pem_x509_certificate(item["pem"].encode()) == certificate
            assert int(item["serialNumber"], 16) == certificate.serial_number
            # Another identity's name, a weak key, garbage: Rejected, and nothing is sent or kept.
            for csr in (csr_for("CP-SOMEONE-ELSE")[0], csr_for("CP-TLS-3", rsa.generate_private_key(65537, 1024))[0],
                        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"):
                answer = await charger.call(call.SignCertificate(csr=csr))
                assert answer.status == "Rejected", csr
            await asyncio.sleep(0.3)
            assert len(charger.chains) == 1 and len(certificates(server, headers, "CP-TLS-3")) == 1
            await unplug(ws, task)
            status, body = await api("PATCH", "/api/v1/stations/CP-TLS-3", {"securityProfile": 3})
            assert status == 200, body
            ws, charger, task = await plugged_in(wss, "CP-TLS-3", ssl=trusting(certificate, key))
            heartbeat = await charger.call(call.Heartbeat())
            assert heartbeat.current_time
            await unplug(ws, task)
            # Without its certificate (its password alone is not enough at profile 3).
            assert await handshake_status(f"{wss}/ocpp/CP-TLS-3", ssl=trusting(), additional_headers=basic("CP-TLS-3", PASSWORD)) == 403
            assert await handshake_status(f"{wss}/ocpp/CP-TLS-3B", ssl=trusting()) == 403
            # Another charger's certificate, on a profile-3 station and on a profile-2 one with the right password.
            assert await handshake_status(f"{wss}/ocpp/CP-TLS-3B", ssl=trusting(certificate, key)) == 403
            assert await handshake_status(f"{wss}/ocpp/CP-TLS-2", ssl=trusting(certificate, key),
                                          additional_headers=basic("CP-TLS-2", PASSWORD)) == 403
            # A certificate with the right name that our CA did not sign ends the TLS handshake.
            forged, forged_key = self_signed("CP-TLS-3")
            # (Under TLS 1.3 the client sees the server's alert only as a closed connection.)
            with pytest.raises((ssl.SSLError, ConnectionResetError, websockets.exceptions.InvalidMessage)):
                await handshake_status(f"{wss}/ocpp/CP-TLS-3", ssl=trusting(forged, forged_key))

        asyncio.run(scenario())

        # TLS 1.1 is refused by the server (a protocol-version alert, not a client unable to offer it).
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(str(tls_dir / "ca.pem"))
        try:
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                old.minimum_version = ssl.TLSVersion.TLSv1_1
                old.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ValueError, ssl.SSLError) as error:
            pytest.skip(f"this Python/OpenSSL cannot offer TLS 1.1: {error}")
        connection = http.client.HTTPSConnection("localhost", server.port, context=old, timeout=5)
        with pytest.raises(ssl.SSLError) as refused:
            connection.request("GET", "/health")
        connection.close()
        if "NO_PROTOCOLS_AVAILABLE" in str(refused.value) or "UNSUPPORTED_PROTOCOL" in str(refused.value):
            pytest.skip(f"this Python/OpenSSL cannot offer TLS 1.1: {refused.value}")
        assert "PROTOCOL_VERSION" in str(refused.value), refused.value
    finally:
        server.stop()


def station_with_password(server, station_id):
    """A station with PASSWORD set: the admin API, the server's ws:// URL and the station's path."""
    headers = admin(server)
    make_station(server, headers, station_id)
    set_password(server, headers, station_id)
    url = f"ws://127.0.0.1:{server.port}"
    return Api(server, headers), url, f"{url}/ocpp/{station_id}"


def test_authorization_key_rotation_switches_the_password_only_when_the_charger_accepts(server):
    api, url, path = station_with_password(server, "CP-ROTATE")

    async def scenario():
        status, body = await api("POST", "/api/v1/stations/CP-ROTATE/credentials/rotate")
        assert status == 409, body

        ws, charger, task = await plugged_in(url, "CP-ROTATE", additional_headers=basic("CP-ROTATE", PASSWORD))
        status, body = await api("POST", "/api/v1/stations/CP-ROTATE/credentials/rotate")
        assert (status, body) == (200, {"status": "Accepted", "rotated": True})
        [(key, new_key)] = charger.changes
        assert key == "AuthorizationKey" and len(new_key) == 40 and all(c in "0123456789abcdef" for c in new_key.lower())
        await unplug(ws, task)
        assert await handshake_status(path, additional_headers=basic("CP-ROTATE", PASSWORD)) == 401
        ws, charger, task = await plugged_in(url, "CP-ROTATE", additional_headers=basic("CP-ROTATE", new_key))

        charger.change_answer = "Rejected"
        status, body = await api("POST", "/api/v1/stations/CP-ROTATE/credentials/rotate")
        assert (status, body) == (200, {"status": "Rejected", "rotated": False})
        [(_, refused_key)] = charger.changes
        assert refused_key != new_key
        await unplug(ws, task)
        assert await handshake_status(path, additional_headers=basic("CP-ROTATE", refused_key)) == 401
        assert await handshake_status(path, additional_headers=basic("CP-ROTATE", new_key)) == 101

        # Neither key is shown in the message log.
        status, log = await api("GET", "/api/v1/stations/CP-ROTATE/ocpp-log?limit=100")
        text = json.dumps(log)
        assert "ChangeConfiguration" in text and new_key not in text and refused_key not in text

    asyncio.run(scenario())


def test_a_key_the_charger_applies_at_reboot_leaves_its_old_one_valid_until_it_uses_the_new_one(server):
    api, url, path = station_with_password(server, "CP-REBOOT-KEY")

    async def scenario():
        ws, charger, task = await plugged_in(url, "CP-REBOOT-KEY", additional_headers=basic("CP-REBOOT-KEY", PASSWORD))
        charger.change_answer = "RebootRequired"
        status, body = await api("POST", "/api/v1/stations/CP-REBOOT-KEY/credentials/rotate")
        assert (status, body) == (200, {"status": "RebootRequired", "rotated": True})
        [(_, new_key)] = charger.changes
        await unplug(ws, task)
        # A network drop before the reboot: the charger reconnects with the key it still has.
        ws, charger, task = await plugged_in(url, "CP-REBOOT-KEY", additional_headers=basic("CP-REBOOT-KEY", PASSWORD))
        await unplug(ws, task)
        # After its reboot it presents the new key; from then on the old one is refused.
        ws, charger, task = await plugged_in(url, "CP-REBOOT-KEY", additional_headers=basic("CP-REBOOT-KEY", new_key))
        await unplug(ws, task)
        assert await handshake_status(path, additional_headers=basic("CP-REBOOT-KEY", PASSWORD)) == 401
        assert await handshake_status(path, additional_headers=basic("CP-REBOOT-KEY", new_key)) == 101

    asyncio.run(scenario())


def test_a_critical_security_event_is_stored_and_alerted_and_a_routine_one_only_stored(server):
    headers = admin(server)
    make_station(server, headers, "CP-EVENTS")
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(f"ws://127.0.0.1:{server.port}", "CP-EVENTS")
        await charger.call(call.SecurityEventNotification(type="InvalidMessages", timestamp="2026-03-10T09:00:00Z", tech_info="bad frame"))
        status, alerts = await api("GET", "/api/v1/alerts?stationId=CP-EVENTS")
        assert status == 200 and [alert for alert in alerts["items"] if alert["kind"] == "security_event"] == [], alerts
        await charger.call(call.SecurityEventNotification(type="TamperDetectionActivated", timestamp="2026-03-10T09:05:00Z",
                                                          tech_info="lid opened"))
        await charger.call(call.SecurityEventNotification(type="ResetOrReboot", timestamp="2026-03-10T09:06:00Z", tech_info=None))
        await unplug(ws, task)

    asyncio.run(scenario())
    status, events, _ = server.json("GET", "/api/v1/stations/CP-EVENTS/security-events", headers=headers)
    assert status == 200, events
    stored = sorted((event["type"], event["critical"], event.get("techInfo")) for event in events["items"])
    assert stored == [("InvalidMessages", False, "bad frame"), ("ResetOrReboot", True, None),
                      ("TamperDetectionActivated", True, "lid opened")]
    tamper = next(event for event in events["items"] if event["type"] == "TamperDetectionActivated")
    assert tamper["occurredAt"].startswith("2026-03-10T09:05:00")
    status, alerts, _ = server.json("GET", "/api/v1/alerts?stationId=CP-EVENTS", headers=headers)
    raised = sorted((alert["details"]["type"], alert["severity"]) for alert in alerts["items"] if alert["kind"] == "security_event")
    assert raised == [("ResetOrReboot", "warning"), ("TamperDetectionActivated", "critical")], alerts
    status, events, _ = server.json("GET", "/api/v1/stations/NO-SUCH/security-events", headers=headers)
    assert status == 404


def test_every_trigger_reaches_the_charger_which_sends_what_it_asks_for(server):
    headers = admin(server)
    make_station(server, headers, "CP-TRIGGER")
    api = Api(server, headers)
    with_connector = {"StatusNotification": 1, "MeterValues": 2}

    async def trigger(command, message, connector_id=None):
        body = {"message": message} if connector_id is None else {"message": message, "connectorId": connector_id}
        return await api("POST", f"/api/v1/stations/CP-TRIGGER/commands/{command}", body)

    async def scenario():
        ws, charger, task = await plugged_in(f"ws://127.0.0.1:{server.port}", "CP-TRIGGER")
        for message in TRIGGERS:
            status, body = await trigger("trigger-message", message, with_connector.get(message))
            assert (status, body) == (200, {"status": "Accepted"}), (message, body)
            assert charger.triggers[-1] == (message, with_connector.get(message))
            await eventually(lambda: len(charger.triggered) == len(charger.triggers), what=f"the triggered {message}")
        assert [message for message, _ in charger.triggered] == TRIGGERS
        answers = dict(charger.triggered)
        assert answers["BootNotification"].status == "Accepted" and answers["Heartbeat"].current_time

        for message in ("BootNotification", "Heartbeat", "LogStatusNotification", "SignChargePointCertificate"):
            status, body = await trigger("extended-trigger-message", message)
            assert (status, body) == (200, {"status": "Accepted"}), (message, body)
            assert charger.extended_triggers[-1] == (message, None)
            await eventually(lambda: len(charger.triggered) == len(TRIGGERS) + len(charger.extended_triggers), what=f"the triggered {message}")
        status, body = await trigger("extended-trigger-message", "StatusNotification", 2)
        assert (status, body) == (200, {"status": "Accepted"}) and charger.extended_triggers[-1] == ("StatusNotification", 2)
        await eventually(lambda: len(charger.triggered) == len(TRIGGERS) + len(charger.extended_triggers), what="the triggered StatusNotification")
        # SignChargePointCertificate: the charger sends its CSR; over plain ws it is refused (a
        # charger gets its certificate over TLS with its password) and no certificate follows.
        assert dict(charger.triggered[len(TRIGGERS):])["SignChargePointCertificate"].status == "Rejected"
        await asyncio.sleep(0.3)
        assert charger.chains == []

        # The charger's refusal is passed on and it sends nothing; bad values never reach it.
        charger.trigger_answer = "NotImplemented"
        status, body = await trigger("trigger-message", "Heartbeat")
        assert (status, body) == (200, {"status": "NotImplemented"})
        sent = (len(charger.triggers), len(charger.extended_triggers))
        for command, message, connector_id in [("trigger-message", "LogStatusNotification", None), ("trigger-message", "Nope", None),
                                               ("extended-trigger-message", "DiagnosticsStatusNotification", None),
                                               ("trigger-message", "StatusNotification", 9)]:
            status, body = await trigger(command, message, connector_id)
            assert status == 422, (command, message, body)
        await asyncio.sleep(0.3)
        assert (len(charger.triggers), len(charger.extended_triggers)) == sent
        assert len(charger.triggered) == len(TRIGGERS) + len(charger.extended_triggers)
        await unplug(ws, task)

    asyncio.run(scenario())
    status, log, _ = server.json("GET", "/api/v1/stations/CP-TRIGGER/ocpp-log?limit=200", headers=headers)
    inbound = [entry["action"] for entry in log["items"] if entry["direction"] == "in"]
    for action in TRIGGERS + ["LogStatusNotification", "SignCertificate"]:
        assert action in inbound, action
    outbound = [entry for entry in log["items"] if entry["direction"] == "out" and entry["action"] == "TriggerMessage"]
    assert len(outbound) == len(TRIGGERS) + 1
