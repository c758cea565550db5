// An arm that yields a tuple of the wrong shape.
use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn list() -> Result<Vec<u32>, std::io::Error> {
    Ok(vec![1])
}

async fn f() -> Result<usize, ErrorGroup> {
    group! {
        a = fetch();
        b = list();
        except* std::io::Error => (0, 0),
    }
    Ok(a as usize + b.len())
}

fn main() {}
