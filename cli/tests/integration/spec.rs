use base64::{engine::general_purpose::STANDARD, Engine};
use satchel_core::{
    status_list::StatusList,
    tlog::{consistency_proof, inclusion_proof, leaf_hash, root},
    Signer, SoftwareKey,
};

use crate::{ok, rejected, satchel, write};

fn b64(h: &[u8; 32]) -> String {
    STANDARD.encode(h)
}

fn join(p: &[[u8; 32]]) -> String {
    p.iter().map(b64).collect::<Vec<_>>().join(",")
}

#[test]
fn tlog_inclusion_and_consistency() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let leaves: Vec<[u8; 32]> = (0..7u8).map(|i| leaf_hash(&[i])).collect();
    let r = root(&leaves);
    let p = inclusion_proof(&leaves, 3).unwrap();
    let (leaf, rt, pr) = (b64(&leaves[3]), b64(&r), join(&p));
    let base = [
        "tlog",
        "verify-inclusion",
        "--index",
        "3",
        "--size",
        "7",
        "--leaf-hash",
    ];
    let run = |leaf: &str, root: &str, proof: &str, index: &str| {
        let mut a = base.to_vec();
        a[3] = index;
        a.extend([leaf, "--root", root, "--proof", proof]);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let args = run(&leaf, &rt, &pr, "3");
    assert_eq!(
        ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>()).trim(),
        "ok"
    );
    for bad in [
        run(&b64(&leaves[4]), &rt, &pr, "3"),
        run(&leaf, &rt, &pr, "4"),
        run(&leaf, &rt, "", "3"),
        run(&leaf, &b64(&leaves[0]), &pr, "3"),
    ] {
        rejected(d, &bad.iter().map(String::as_str).collect::<Vec<_>>());
    }
    rejected(
        d,
        &run(&leaf, "not-base64", &pr, "3")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    // A one-leaf tree: the empty proof.
    let one = b64(&leaves[0]);
    ok(
        d,
        &[
            "tlog",
            "verify-inclusion",
            "--index",
            "0",
            "--size",
            "1",
            "--leaf-hash",
            &one,
            "--root",
            &one,
            "--proof",
            "",
        ],
    );

    let c = consistency_proof(&leaves, 3).unwrap();
    let r3 = b64(&root(&leaves[..3]));
    assert_eq!(
        ok(
            d,
            &[
                "tlog",
                "verify-consistency",
                "--size1",
                "3",
                "--size2",
                "7",
                "--root1",
                &r3,
                "--root2",
                &rt,
                "--proof",
                &join(&c)
            ]
        )
        .trim(),
        "ok"
    );
    rejected(
        d,
        &[
            "tlog",
            "verify-consistency",
            "--size1",
            "3",
            "--size2",
            "7",
            "--root1",
            &rt,
            "--root2",
            &rt,
            "--proof",
            &join(&c),
        ],
    );
    rejected(
        d,
        &[
            "tlog",
            "verify-consistency",
            "--size1",
            "3",
            "--size2",
            "7",
            "--root1",
            &r3,
            "--root2",
            &rt,
            "--proof",
            "",
        ],
    );
    ok(
        d,
        &[
            "tlog",
            "verify-consistency",
            "--size1",
            "7",
            "--size2",
            "7",
            "--root1",
            &rt,
            "--root2",
            &rt,
            "--proof",
            "",
        ],
    );
    assert_eq!(
        satchel(d, &["tlog", "verify-consistency", "--size1", "x"]).code,
        2
    );
}

#[test]
fn note_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "note.txt", "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert!(ok(d, &["note", "verify", "--vkey", vkey, "note.txt"]).starts_with("If you think"));
    write(
        d,
        "bad.txt",
        &std::fs::read_to_string(d.join("note.txt"))
            .unwrap()
            .replace("answer", "question"),
    );
    rejected(d, &["note", "verify", "--vkey", vkey, "bad.txt"]);
    rejected(d, &["note", "verify", "--vkey", "nonsense", "note.txt"]);
}

#[test]
fn status_list_get() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = SoftwareKey::generate_es256().unwrap();
    let mut l = StatusList::new(2, 16).unwrap();
    l.set(5, 2).unwrap();
    write(
        d,
        "list.jwt",
        &l.to_token("https://s/1", satchel_core::unix_now(), None, &key)
            .unwrap(),
    );
    write(d, "key.jwk", &key.public_jwk().to_value().to_string());
    assert_eq!(
        ok(
            d,
            &["status-list", "get", "--token", "list.jwt", "--index", "5"]
        )
        .trim(),
        "2"
    );
    assert_eq!(
        ok(
            d,
            &["status-list", "get", "--token", "list.jwt", "--index", "4"]
        )
        .trim(),
        "0"
    );
    assert_eq!(
        ok(
            d,
            &[
                "status-list",
                "get",
                "--token",
                "list.jwt",
                "--index",
                "5",
                "--key",
                "key.jwk"
            ]
        )
        .trim(),
        "2"
    );
    rejected(
        d,
        &[
            "status-list",
            "get",
            "--token",
            "list.jwt",
            "--index",
            "5",
            "--key",
            "key.jwk",
            "--uri",
            "https://s/2",
        ],
    );
    rejected(
        d,
        &[
            "status-list",
            "get",
            "--token",
            "list.jwt",
            "--index",
            "999",
        ],
    );
    write(
        d,
        "other.jwk",
        &SoftwareKey::generate_es256()
            .unwrap()
            .public_jwk()
            .to_value()
            .to_string(),
    );
    rejected(
        d,
        &[
            "status-list",
            "get",
            "--token",
            "list.jwt",
            "--index",
            "5",
            "--key",
            "other.jwk",
        ],
    );
}
