//! SIP over TLS: the registrar reached through `protocol=tls`. Debian's sipp
//! has no TLS, so socat terminates it in front of sipp: sipp speaks TCP to
//! socat, socat speaks TLS (with the test certificate) to Obelus.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{ConfDir, free_port};
use crate::sip_register::{contacts, sipp};

struct Relay(Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sip_register_over_tls() {
    let conf = ConfDir::new();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("test certificate");
    conf.write("sip-cert.pem", &certified.cert.pem());
    conf.write("sip-key.pem", &certified.signing_key.serialize_pem());
    let tls_port = free_port();
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-tls]\ntype=transport\nprotocol=tls\nbind=127.0.0.1:{tls_port}\ncert_file=sip-cert.pem\npriv_key_file=sip-key.pem\n\n\
             [101]\ntype=endpoint\ncontext=default\nauth=101-auth\naors=101\n\n\
             [101-auth]\ntype=auth\nauth_type=userpass\nusername=101\npassword=101\n\n\
             [101]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n"
        ),
    );
    let _daemon = conf.start_foreground();

    let relay_port = free_port();
    let relay = Relay(
        Command::new("socat")
            .arg(format!(
                "TCP-LISTEN:{relay_port},bind=127.0.0.1,reuseaddr,fork"
            ))
            .arg(format!("OPENSSL:127.0.0.1:{tls_port},verify=0"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat (apt-get install socat)"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", relay_port)).is_err() {
        assert!(Instant::now() < deadline, "socat did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }

    assert!(
        sipp(relay_port, "t1", "register.xml", "101", "101", free_port()),
        "REGISTER over TLS"
    );
    let listed = contacts(&conf);
    assert!(
        listed.contains("Contact:  101/sip:101@127.0.0.1:"),
        "{listed}"
    );
    let (_, transports, _) = conf.rx("pjsip show transports");
    assert!(
        transports.contains("transport-tls") && transports.contains("tls"),
        "{transports}"
    );
    drop(relay);
}
