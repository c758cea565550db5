// The function's error type must take the group's remainder: `From<ErrorGroup>`.

use taskgroup::group;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, std::io::Error> {
    group! {
        a = fetch();
        except* std::fmt::Error => 0,
    }
    Ok(a)
}

fn main() {}
