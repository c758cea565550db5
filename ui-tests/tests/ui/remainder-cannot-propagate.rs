use taskgroup::group;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() {
    group! {
        a = fetch();
    }
    let _ = a;
}

fn main() {}
