//! Date and time functions. The session time zone is UTC, so NOW() and
//! UTC_TIMESTAMP() agree and UNIX_TIMESTAMP() reads datetimes as UTC.
//! Unparsable dates give NULL, as in MySQL (which also warns).

use crate::eval::convert::{to_datetime, to_i64, to_num, to_text, to_time, Num};
use crate::eval::EvalContext;
use chrono::{Datelike, Duration, Months, NaiveDateTime, Timelike};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::fmt::Write as _;
use tiembed_sql::Func;
use tiembed_types::{Error, Result, Value};

type Args<'a, 'b> = &'b [Cow<'a, Value>];

fn fsp_arg(a: Args<'_, '_>) -> Result<u8> {
    Ok(match a.first() {
        Some(v) => {
            let f = to_i64(v)?.unwrap_or(0);
            if !(0..=6).contains(&f) {
                return Err(Error::other(format!(
                    "Too-big precision {f} specified for 'now'. Maximum is 6."
                )));
            }
            f as u8
        }
        None => 0,
    })
}

/// Drops digits beyond `fsp` (the statement clock has microseconds).
fn truncate_fsp(dt: NaiveDateTime, fsp: u8) -> NaiveDateTime {
    let unit = 10u32.pow(9 - u32::from(fsp.min(6)));
    dt.with_nanosecond(dt.nanosecond() / unit * unit)
        .unwrap_or(dt)
}

pub(super) fn call(func: Func, a: Args<'_, '_>, ctx: &dyn EvalContext) -> Result<Value> {
    let dt = |i: usize| to_datetime(&a[i]);
    Ok(match func {
        Func::Now | Func::UtcTimestamp => Value::DateTime(truncate_fsp(ctx.now(), fsp_arg(a)?)),
        Func::CurDate => Value::Date(ctx.now().date()),
        Func::CurTime => {
            let t = truncate_fsp(ctx.now(), fsp_arg(a)?);
            Value::Str(format_time(&t, fsp_arg(a)?))
        }
        Func::UnixTimestamp => match a.first() {
            None => Value::Int(ctx.now().and_utc().timestamp()),
            Some(v) => match to_datetime(v) {
                Some((t, _)) => unix_timestamp(&t),
                None => Value::Null,
            },
        },
        Func::FromUnixtime => {
            let Some(t) = from_unixtime(&a[0])? else {
                return Ok(Value::Null);
            };
            match a.get(1) {
                Some(f) => Value::Str(date_format(&t, &to_text(f).unwrap_or_default())),
                None => Value::DateTime(t),
            }
        }
        Func::Date => match dt(0) {
            Some((t, _)) => Value::Date(t.date()),
            None => Value::Null,
        },
        Func::Year | Func::Month | Func::Day | Func::DayOfWeek => match dt(0) {
            Some((t, _)) => Value::Int(i64::from(match func {
                Func::Year => t.year() as u32,
                Func::Month => t.month(),
                Func::Day => t.day(),
                _ => t.weekday().num_days_from_sunday() + 1,
            })),
            None => Value::Null,
        },
        Func::Hour | Func::Minute | Func::Second => match to_time(&a[0]) {
            Some(t) => Value::Int(i64::from(match func {
                Func::Hour => t.hour(),
                Func::Minute => t.minute(),
                _ => t.second(),
            })),
            None => Value::Null,
        },
        Func::DateFormat => match dt(0) {
            Some((t, _)) => Value::Str(date_format(&t, &to_text(&a[1]).unwrap_or_default())),
            None => Value::Null,
        },
        Func::DateAdd | Func::DateSub => {
            let Some((t, date_only)) = dt(0) else {
                return Ok(Value::Null);
            };
            let unit = to_text(&a[2]).unwrap_or_default().to_ascii_uppercase();
            let Some(mut iv) = Interval::parse(&a[1], &unit)? else {
                return Ok(Value::Null);
            };
            if func == Func::DateSub {
                iv = iv.negate();
            }
            match iv.apply(t) {
                Some(r) if date_only && iv.micros == 0 && !unit_has_time(&unit) => {
                    Value::Date(r.date())
                }
                Some(r) => Value::DateTime(r),
                None => Value::Null,
            }
        }
        Func::DateDiff => match (dt(0), dt(1)) {
            (Some((x, _)), Some((y, _))) => Value::Int((x.date() - y.date()).num_days()),
            _ => Value::Null,
        },
        Func::TimestampDiff => {
            let unit = to_text(&a[0]).unwrap_or_default().to_ascii_uppercase();
            match (to_datetime(&a[1]), to_datetime(&a[2])) {
                (Some((x, _)), Some((y, _))) => Value::Int(timestamp_diff(&unit, x, y)?),
                _ => Value::Null,
            }
        }
        _ => {
            return Err(Error::internal(format!(
                "{} is not a date function",
                func.name()
            )))
        }
    })
}

fn format_time(t: &NaiveDateTime, fsp: u8) -> String {
    let mut s = t.format("%H:%M:%S").to_string();
    if fsp > 0 {
        let micros = t.nanosecond() / 1000;
        let digits = format!("{micros:06}");
        s.push('.');
        s.push_str(&digits[..usize::from(fsp.min(6))]);
    }
    s
}

fn unix_timestamp(t: &NaiveDateTime) -> Value {
    let utc = t.and_utc();
    let secs = utc.timestamp();
    if secs < 0 {
        return Value::Int(0);
    }
    let micros = t.nanosecond() / 1000;
    if micros == 0 {
        Value::Int(secs)
    } else {
        Value::Decimal(Decimal::from_i128_with_scale(
            i128::from(secs) * 1_000_000 + i128::from(micros),
            6,
        ))
    }
}

fn from_unixtime(v: &Value) -> Result<Option<NaiveDateTime>> {
    let (secs, micros) = match to_num(v)? {
        None => return Ok(None),
        Some(Num::Int(i)) => (i, 0),
        Some(Num::UInt(u)) => (i64::try_from(u).unwrap_or(i64::MAX), 0),
        Some(Num::Dec(d)) => {
            let whole = d.trunc();
            let frac = ((d - whole) * Decimal::from(1_000_000))
                .round()
                .to_i64()
                .unwrap_or(0);
            (whole.to_i64().unwrap_or(-1), frac)
        }
        Some(Num::Float(f)) => (f.trunc() as i64, ((f - f.trunc()) * 1e6).round() as i64),
    };
    // MySQL's range: 0 .. 32536771199 (3001-01-18 23:59:59 UTC).
    if !(0..=32_536_771_199).contains(&secs) {
        return Ok(None);
    }
    Ok(
        chrono::DateTime::from_timestamp(secs, (micros.clamp(0, 999_999) * 1000) as u32)
            .map(|d| d.naive_utc()),
    )
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// MySQL's DATE_FORMAT specifiers; an unknown `%x` prints `x`.
pub(crate) fn date_format(t: &NaiveDateTime, fmt: &str) -> String {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars();
    let h12 = |h: u32| match h % 12 {
        0 => 12,
        x => x,
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            break;
        };
        let wd = t.weekday().num_days_from_sunday() as usize;
        let _ = match spec {
            'a' => write!(out, "{}", &DAYS[wd][..3]),
            'b' => write!(out, "{}", &MONTHS[t.month0() as usize][..3]),
            'c' => write!(out, "{}", t.month()),
            'D' => {
                let d = t.day();
                let suffix = match (d % 10, d % 100) {
                    (_, 11..=13) => "th",
                    (1, _) => "st",
                    (2, _) => "nd",
                    (3, _) => "rd",
                    _ => "th",
                };
                write!(out, "{d}{suffix}")
            }
            'd' => write!(out, "{:02}", t.day()),
            'e' => write!(out, "{}", t.day()),
            'f' => write!(out, "{:06}", t.nanosecond() / 1000),
            'H' => write!(out, "{:02}", t.hour()),
            'h' | 'I' => write!(out, "{:02}", h12(t.hour())),
            'i' => write!(out, "{:02}", t.minute()),
            'j' => write!(out, "{:03}", t.ordinal()),
            'k' => write!(out, "{}", t.hour()),
            'l' => write!(out, "{}", h12(t.hour())),
            'M' => write!(out, "{}", MONTHS[t.month0() as usize]),
            'm' => write!(out, "{:02}", t.month()),
            'p' => write!(out, "{}", if t.hour() < 12 { "AM" } else { "PM" }),
            'r' => write!(
                out,
                "{:02}:{:02}:{:02} {}",
                h12(t.hour()),
                t.minute(),
                t.second(),
                if t.hour() < 12 { "AM" } else { "PM" }
            ),
            'S' | 's' => write!(out, "{:02}", t.second()),
            'T' => write!(out, "{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
            'U' => write!(out, "{}", t.format("%U")),
            'u' => write!(out, "{}", t.format("%W")),
            'V' => write!(out, "{}", t.format("%U")),
            'v' => write!(out, "{:02}", t.iso_week().week()),
            'W' => write!(out, "{}", DAYS[wd]),
            'w' => write!(out, "{wd}"),
            'X' => write!(out, "{:04}", t.year()),
            'x' => write!(out, "{:04}", t.iso_week().year()),
            'Y' => write!(out, "{:04}", t.year()),
            'y' => write!(out, "{:02}", t.year() % 100),
            other => write!(out, "{other}"),
        };
    }
    out
}

/// An `INTERVAL n unit` as calendar months plus microseconds.
#[derive(Debug, Clone, Copy)]
struct Interval {
    months: i64,
    micros: i128,
}

fn unit_has_time(unit: &str) -> bool {
    matches!(
        unit,
        "MICROSECOND"
            | "SECOND"
            | "MINUTE"
            | "HOUR"
            | "SECOND_MICROSECOND"
            | "MINUTE_MICROSECOND"
            | "MINUTE_SECOND"
            | "HOUR_MICROSECOND"
            | "HOUR_SECOND"
            | "HOUR_MINUTE"
            | "DAY_MICROSECOND"
            | "DAY_SECOND"
            | "DAY_MINUTE"
            | "DAY_HOUR"
    )
}

const SEC: i128 = 1_000_000;
const MIN: i128 = 60 * SEC;
const HOUR: i128 = 60 * MIN;
const DAY: i128 = 24 * HOUR;

impl Interval {
    fn negate(self) -> Interval {
        Interval {
            months: -self.months,
            micros: -self.micros,
        }
    }

    fn parse(v: &Value, unit: &str) -> Result<Option<Interval>> {
        let simple = |micros_per: i128| -> Result<Option<Interval>> {
            Ok(to_i64(v)?.map(|n| Interval {
                months: 0,
                micros: i128::from(n) * micros_per,
            }))
        };
        let months = |per: i64| -> Result<Option<Interval>> {
            Ok(to_i64(v)?.map(|n| Interval {
                months: n.saturating_mul(per),
                micros: 0,
            }))
        };
        match unit {
            "MICROSECOND" => simple(1),
            "SECOND" => {
                // Seconds may carry a fraction: INTERVAL 1.5 SECOND.
                let Some(n) = to_num(v)? else {
                    return Ok(None);
                };
                let micros = n
                    .to_decimal()
                    .unwrap_or_default()
                    .checked_mul(Decimal::from(1_000_000));
                // An interval beyond any representable date makes the result NULL.
                Ok(micros
                    .and_then(|d| d.round().to_i128())
                    .map(|micros| Interval { months: 0, micros }))
            }
            "MINUTE" => simple(MIN),
            "HOUR" => simple(HOUR),
            "DAY" => simple(DAY),
            "WEEK" => simple(7 * DAY),
            "MONTH" => months(1),
            "QUARTER" => months(3),
            "YEAR" => months(12),
            _ => {
                let parts: &[i128] = match unit {
                    "SECOND_MICROSECOND" => &[SEC, 1],
                    "MINUTE_MICROSECOND" => &[MIN, SEC, 1],
                    "MINUTE_SECOND" => &[MIN, SEC],
                    "HOUR_MICROSECOND" => &[HOUR, MIN, SEC, 1],
                    "HOUR_SECOND" => &[HOUR, MIN, SEC],
                    "HOUR_MINUTE" => &[HOUR, MIN],
                    "DAY_MICROSECOND" => &[DAY, HOUR, MIN, SEC, 1],
                    "DAY_SECOND" => &[DAY, HOUR, MIN, SEC],
                    "DAY_MINUTE" => &[DAY, HOUR, MIN],
                    "DAY_HOUR" => &[DAY, HOUR],
                    "YEAR_MONTH" => &[0, 0],
                    _ => return Err(Error::other(format!("invalid time unit '{unit}'"))),
                };
                let Some(text) = to_text(v) else {
                    return Ok(None);
                };
                let text = text.trim();
                let (neg, body) = match text.strip_prefix('-') {
                    Some(b) => (true, b),
                    None => (false, text),
                };
                let mut nums: Vec<&str> = body
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|s| !s.is_empty())
                    .collect();
                if nums.is_empty() || nums.len() > parts.len() {
                    return Ok(None);
                }
                let micro_last = parts.last() == Some(&1) && parts.len() > 1;
                // Fields align to the right: '1:30' DAY_SECOND is 1 minute 30 seconds.
                let offset = parts.len() - nums.len();
                let mut iv = Interval {
                    months: 0,
                    micros: 0,
                };
                let last = nums.len() - 1;
                for (i, n) in nums.iter_mut().enumerate() {
                    let mut digits = n.to_string();
                    if micro_last && i == last && offset == 0 {
                        // the fraction of a second is written as digits after a dot
                        digits = format!("{digits:0<6}");
                        digits.truncate(6);
                    }
                    let val: i128 = digits.parse().unwrap_or(0);
                    if unit == "YEAR_MONTH" {
                        iv.months += (val as i64) * if i + offset == 0 { 12 } else { 1 };
                    } else {
                        iv.micros += val * parts[i + offset];
                    }
                }
                Ok(Some(if neg { iv.negate() } else { iv }))
            }
        }
    }

    /// Adds the interval; month arithmetic clamps the day to the month's end
    /// (`2024-01-31 + 1 MONTH` is `2024-02-29`). `None` outside years 1..9999.
    fn apply(self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut r = t;
        if self.months != 0 {
            let m = Months::new(u32::try_from(self.months.unsigned_abs()).ok()?);
            r = if self.months > 0 {
                r.checked_add_months(m)?
            } else {
                r.checked_sub_months(m)?
            };
        }
        if self.micros != 0 {
            r = r.checked_add_signed(Duration::microseconds(i64::try_from(self.micros).ok()?))?;
        }
        (1..=9999).contains(&r.year()).then_some(r)
    }
}

/// TIMESTAMPDIFF(unit, x, y): whole units from x to y, truncated toward zero.
fn timestamp_diff(unit: &str, x: NaiveDateTime, y: NaiveDateTime) -> Result<i64> {
    let micros = (y - x).num_microseconds().unwrap_or(i64::MAX) as i128;
    let per = match unit {
        "MICROSECOND" => 1,
        "SECOND" => SEC,
        "MINUTE" => MIN,
        "HOUR" => HOUR,
        "DAY" => DAY,
        "WEEK" => 7 * DAY,
        "MONTH" | "QUARTER" | "YEAR" => {
            let months = month_diff(x, y);
            return Ok(match unit {
                "MONTH" => months,
                "QUARTER" => months / 3,
                _ => months / 12,
            });
        }
        _ => return Err(Error::other(format!("invalid time unit '{unit}'"))),
    };
    Ok((micros / per) as i64)
}

fn month_diff(x: NaiveDateTime, y: NaiveDateTime) -> i64 {
    let (a, b, sign) = if y >= x { (x, y, 1) } else { (y, x, -1) };
    let mut months = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month())
        - i64::from(a.month());
    // A month is complete only once the day and time of day are reached.
    let rest = |t: NaiveDateTime| (t.day(), t.time());
    if rest(b) < rest(a) {
        months -= 1;
    }
    sign * months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        crate::eval::convert::parse_datetime(s).unwrap().0
    }

    #[test]
    fn formats() {
        let t = dt("2024-03-01 14:05:09.123456");
        assert_eq!(date_format(&t, "%Y-%m-%d %H:%i:%s"), "2024-03-01 14:05:09");
        assert_eq!(date_format(&t, "%W %M %D %y %j"), "Friday March 1st 24 061");
        assert_eq!(
            date_format(&t, "%a %b %e %c %h %l %p %f %%"),
            "Fri Mar 1 3 02 2 PM 123456 %"
        );
        assert_eq!(date_format(&t, "%r|%T|%w|%k"), "02:05:09 PM|14:05:09|5|14");
        assert_eq!(date_format(&dt("2024-03-22"), "%D"), "22nd");
        assert_eq!(date_format(&dt("2024-03-13"), "%D"), "13th");
    }

    #[test]
    fn intervals() {
        let iv = |v: Value, u: &str| Interval::parse(&v, u).unwrap().unwrap();
        let t = dt("2024-01-31 10:00:00");
        assert_eq!(
            iv(Value::Int(1), "MONTH").apply(t).unwrap(),
            dt("2024-02-29 10:00:00")
        );
        assert_eq!(
            iv(Value::Int(-1), "DAY").apply(t).unwrap(),
            dt("2024-01-30 10:00:00")
        );
        assert_eq!(
            iv(Value::Str("1:30".into()), "HOUR_MINUTE")
                .apply(t)
                .unwrap(),
            dt("2024-01-31 11:30:00")
        );
        assert_eq!(
            iv(Value::Str("1:30".into()), "DAY_SECOND")
                .apply(t)
                .unwrap(),
            dt("2024-01-31 10:01:30")
        );
        assert_eq!(
            iv(Value::Str("1 2".into()), "DAY_HOUR").apply(t).unwrap(),
            dt("2024-02-01 12:00:00")
        );
        assert_eq!(
            iv(Value::Str("1-2".into()), "YEAR_MONTH").apply(t).unwrap(),
            dt("2025-03-31 10:00:00")
        );
        assert_eq!(
            iv(Value::Str("1.5".into()), "SECOND").apply(t).unwrap(),
            dt("2024-01-31 10:00:01.5")
        );
        assert_eq!(
            iv(Value::Str("1.5".into()), "SECOND_MICROSECOND")
                .apply(t)
                .unwrap(),
            dt("2024-01-31 10:00:01.5")
        );
        assert!(iv(Value::Int(9000), "YEAR").apply(t).is_none());
        assert!(Interval::parse(&Value::Int(1), "FORTNIGHT").is_err());
    }

    #[test]
    fn diffs() {
        assert_eq!(
            timestamp_diff("MONTH", dt("2024-01-31"), dt("2024-02-29")).unwrap(),
            0
        );
        assert_eq!(
            timestamp_diff("MONTH", dt("2024-01-31"), dt("2024-03-31")).unwrap(),
            2
        );
        assert_eq!(
            timestamp_diff("MONTH", dt("2024-03-31"), dt("2024-01-31")).unwrap(),
            -2
        );
        assert_eq!(
            timestamp_diff("YEAR", dt("2000-06-01"), dt("2024-05-31")).unwrap(),
            23
        );
        assert_eq!(
            timestamp_diff("DAY", dt("2024-01-01 12:00"), dt("2024-01-03 11:59")).unwrap(),
            1
        );
        assert_eq!(
            timestamp_diff("MINUTE", dt("2024-01-01 12:00"), dt("2024-01-01 11:58:30")).unwrap(),
            -1
        );
        assert_eq!(
            timestamp_diff("QUARTER", dt("2024-01-01"), dt("2024-12-31")).unwrap(),
            3
        );
    }
}
