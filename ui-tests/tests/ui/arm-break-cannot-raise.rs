use taskgroup::group;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn other() -> Result<u32, std::fmt::Error> {
    Ok(2)
}

// `break` in an arm raises the errors no arm handled, which a function returning `()` cannot.
async fn f() {
    loop {
        group! {
            a = fetch();
            b = other();
            except* std::io::Error => break,
            except* _ => continue,
        }
        let _ = (a, b);
    }
}

fn main() {}
