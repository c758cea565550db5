// Every option, alone and together, and every mode.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

const LIMIT: usize = 2;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    let timeout = Duration::from_secs(5);
    group! {
        #![name = "everything"]
        #![timeout = timeout]
        #![limit = LIMIT]
        #![grace = Duration::from_millis(10)]
        #![mode = fail_fast]
        a = fetch(1);
        b = spawn fetch(2);
        c = for n in 0..4 => fetch(n);
        d = for n in 0..4 => spawn fetch(n);
        except* taskgroup::Elapsed => (0, 0, Vec::new(), Vec::new()),
    }
    assert_eq!((a, b, c, d), (1, 2, vec![0, 1, 2, 3], vec![0, 1, 2, 3]));

    group! {
        #![mode = supervise]
        #![limit = 1]
        e = fetch(5);
        _ = fetch(6);
    }
    assert_eq!(e, 5);

    group! {
        #![mode = settle]
        #![timeout = Duration::from_secs(1)]
        f = fetch(7);
        g = spawn fetch(8);
        h = for n in 0..2 => fetch(n);
        i = for n in 0..2 => spawn fetch(n);
    }
    let f: Result<u32, std::io::Error> = f;
    assert_eq!(f.unwrap() + g.unwrap(), 15);
    assert_eq!(h.len() + i.len(), 4);
    Ok(())
}
