// The expansion is clean under strict lints on the user's crate. (`clippy::pedantic` takes
// effect under `cargo clippy`, which lints the same code in `tests/lints.rs`.)
#![deny(warnings, unused_qualifications, unused_results, clippy::pedantic)]
#![deny(unreachable_pub, missing_debug_implementations, unsafe_code)]

use std::time::Duration;

use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

async fn run() -> Result<u32, ErrorGroup> {
    group! {
        #![timeout = Duration::from_secs(1)]
        #![limit = 4]
        a = fetch(1);
        b = spawn fetch(2);
        c = for n in 0..3 => fetch(n);
        _ = fetch(3);
        except* std::io::Error as errors => return Err(errors.map(Into::into)),
        except* taskgroup::Elapsed => (0, 0, Vec::new()),
    }
    let mut total = a + b;
    for n in c {
        total += n;
    }
    group! {
        mut d = fetch(4);
        except* _ => 0,
    }
    d += 1;
    Ok(total + d)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    assert_eq!(run().await?, 11);
    Ok(())
}
