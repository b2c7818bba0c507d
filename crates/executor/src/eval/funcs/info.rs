//! Session information (answered by the context), LAST_INSERT_ID(expr),
//! and the non-deterministic RAND, UUID and SLEEP.

use crate::eval::convert::{to_f64, to_i64, to_num, Num};
use crate::eval::{eval_ref, EvalContext};
use std::cell::Cell;
use tiembed_sql::{Expr, Func};
use tiembed_types::{Error, Result, Value};

pub(super) fn call(
    func: Func,
    args: &[Expr],
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Value> {
    Ok(match func {
        // LAST_INSERT_ID(expr) returns expr; the session records it.
        Func::LastInsertId if !args.is_empty() => {
            let v = eval_ref(&args[0], row, ctx)?;
            match to_num(&v)? {
                None => Value::Null,
                Some(Num::UInt(u)) => Value::UInt(u),
                Some(Num::Int(i)) => Value::UInt(i as u64),
                Some(n) => Value::UInt(crate::eval::convert::f64_to_i64_round(n.to_f64()) as u64),
            }
        }
        Func::Version
        | Func::TidbVersion
        | Func::Database
        | Func::User
        | Func::CurrentUser
        | Func::ConnectionId
        | Func::LastInsertId
        | Func::RowCount
        | Func::FoundRows => ctx.info(func)?,
        Func::Rand => match args.first() {
            None => Value::Double(random_f64()),
            Some(e) => {
                let seed = to_i64(&*eval_ref(e, row, ctx)?)?.unwrap_or(0);
                Value::Double(MysqlRand::new(seed).next())
            }
        },
        Func::Uuid => Value::Str(uuid()),
        Func::Sleep => {
            let secs = to_f64(&*eval_ref(&args[0], row, ctx)?)?;
            match secs {
                Some(s) if s >= 0.0 && s.is_finite() => {
                    // Capped so a stray SLEEP cannot pin a worker for hours.
                    std::thread::sleep(std::time::Duration::from_secs_f64(s.min(3600.0)));
                    Value::Int(0)
                }
                _ => return Err(Error::WrongArguments("sleep.".into())),
            }
        }
        _ => {
            return Err(Error::internal(format!(
                "{} is not an information function",
                func.name()
            )))
        }
    })
}

/// MySQL's RAND(seed) generator. A seeded RAND gives the first number of
/// MySQL's sequence on every call (MySQL advances it per row).
struct MysqlRand {
    seed1: u64,
    seed2: u64,
}

const RAND_MAX: u64 = 0x3FFF_FFFF;

impl MysqlRand {
    fn new(seed: i64) -> MysqlRand {
        let s = u64::from(seed as u32);
        let seed1 = u64::from((s.wrapping_mul(0x10001).wrapping_add(55_555_555)) as u32);
        let seed2 = u64::from((s.wrapping_mul(0x1000_0001)) as u32);
        MysqlRand {
            seed1: seed1 % RAND_MAX,
            seed2: seed2 % RAND_MAX,
        }
    }

    fn next(&mut self) -> f64 {
        self.seed1 = (self.seed1 * 3 + self.seed2) % RAND_MAX;
        self.seed2 = (self.seed1 + self.seed2 + 33) % RAND_MAX;
        self.seed1 as f64 / RAND_MAX as f64
    }
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() | 1
}

/// xorshift64*: plenty for RAND() and UUID(), no dependency.
fn random_u64() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

fn random_f64() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A random (version 4) UUID in MySQL's text form.
fn uuid() -> String {
    let hi = random_u64();
    let lo = random_u64();
    let hi = (hi & !0xF000) | 0x4000;
    let lo = (lo & !(0xC << 60)) | (0x8 << 60);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_rand_matches_mysql() {
        // MySQL: SELECT RAND(1) -> 0.40540353712197724, RAND(3) -> 0.9057697559760601
        assert_eq!(MysqlRand::new(1).next(), 0.40540353712197724);
        assert_eq!(MysqlRand::new(3).next(), 0.9057697559760601);
    }

    #[test]
    fn random_values() {
        let a = random_f64();
        let b = random_f64();
        assert!((0.0..1.0).contains(&a) && (0.0..1.0).contains(&b) && a != b);
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(uuid(), u);
    }
}
