//! Parsing: sqlparser's MySQL dialect for standard statements, TiDB's own
//! syntax handled on sqlparser's tokens (never by regex on SQL text, which
//! would break inside string literals).
//!
//! A token pre-pass removes what sqlparser cannot read but we only need as
//! a flag (`VECTOR` before INDEX/KEY, `ADD_COLUMNAR_REPLICA_ON_DEMAND`,
//! `WITH PARSER x`, `VECTOR<FLOAT>`, `CREATE FULLTEXT INDEX`); then each
//! statement is dispatched on its first words: SHOW, SET and TiDB-only
//! ALTER forms are parsed here by hand, everything else by sqlparser.

use sqlparser::ast;
use sqlparser::dialect::MySqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};
use tiembed_types::{Error, Result};

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// Anything sqlparser parses, plus what the pre-pass learned about it.
    Sql {
        stmt: Box<ast::Statement>,
        flags: TidbFlags,
    },
    Show(Show),
    Set(Vec<SetItem>),
    /// `ALTER TABLE t SET TIFLASH REPLICA n`.
    SetTiflashReplica {
        table: ast::ObjectName,
        count: u64,
    },
    /// Statements accepted for compatibility that change nothing here
    /// (`ALTER TABLE .. COMPACT`, `ADMIN ..`, `FLUSH ..`, `DO ..`); the
    /// string names the statement for logging.
    NoOp(String),
}

/// TiDB syntax the pre-pass removed, kept as facts about the statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TidbFlags {
    /// `VECTOR INDEX` / `VECTOR KEY` (or `CREATE VECTOR INDEX`) appeared.
    pub vector_index: bool,
    /// `CREATE FULLTEXT INDEX` (sqlparser has no such statement).
    pub fulltext_index: bool,
    /// Parsers named by `WITH PARSER x`, in order.
    pub parsers: Vec<String>,
    /// `ALTER TABLE ... ADD [VECTOR] INDEX IF NOT EXISTS` (TiDB's extension).
    pub index_if_not_exists: bool,
}

/// `SHOW ...` in the forms drivers and tools send.
#[derive(Debug, Clone, PartialEq)]
pub struct Show {
    pub kind: ShowKind,
    pub full: bool,
    pub global: bool,
    /// `FROM tbl` / `IN tbl` (SHOW COLUMNS/INDEX) or `FROM db` (SHOW TABLES).
    pub from: Option<ast::ObjectName>,
    /// Second `FROM db` of `SHOW COLUMNS FROM t FROM db`.
    pub from_db: Option<String>,
    pub filter: Option<ShowFilter>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShowFilter {
    Like(String),
    Where(ast::Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowKind {
    Databases,
    Tables,
    Columns,
    Index,
    CreateTable,
    CreateDatabase,
    Variables,
    Status,
    Warnings,
    Errors,
    Collation,
    CharacterSet,
    Engines,
    ProcessList,
    Grants,
    TableStatus,
    Plugins,
    Privileges,
}

/// One assignment of a SET statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// `SET [GLOBAL|SESSION] x = v`, `SET @@[global.|session.]x = v`.
    System {
        name: String,
        scope: SetScope,
        value: SetValue,
    },
    /// `SET @x = v`.
    User { name: String, value: ast::Expr },
    /// `SET NAMES cs [COLLATE c]`, `SET CHARACTER SET cs`.
    Names {
        charset: String,
        collation: Option<String>,
    },
    /// `SET [GLOBAL|SESSION] TRANSACTION ISOLATION LEVEL ... | READ ONLY/WRITE`.
    Transaction {
        scope: SetScope,
        isolation: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetScope {
    Session,
    Global,
    /// `@@x` without a scope word: SESSION semantics (1229 for GLOBAL-only).
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Expr(ast::Expr),
    /// `= DEFAULT`.
    Default,
}

/// Parses `sql` into statements.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| parse_error(sql, e.location.line, e.location.column))?;
    let mut out = Vec::new();
    for stmt_tokens in split_statements(tokens) {
        let (tokens, flags) = prepass(stmt_tokens);
        if tokens.iter().all(|t| is_trivia(&t.token)) {
            continue;
        }
        out.push(parse_one(sql, tokens, flags)?);
    }
    Ok(out)
}

fn is_trivia(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_) | Token::EOF | Token::SemiColon)
}

/// Splits the token stream at top-level `;`.
fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut out = vec![Vec::new()];
    for t in tokens {
        match t.token {
            Token::SemiColon => out.push(Vec::new()),
            Token::EOF => {}
            _ => out.last_mut().expect("non-empty").push(t),
        }
    }
    out
}

fn word_is(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w))
}

/// Index of the next non-trivia token at or after `i`.
fn next_sig(tokens: &[TokenWithSpan], i: usize) -> Option<usize> {
    (i..tokens.len()).find(|&j| !matches!(tokens[j].token, Token::Whitespace(_)))
}

/// Removes TiDB-only words sqlparser would choke on, recording them.
fn prepass(tokens: Vec<TokenWithSpan>) -> (Vec<TokenWithSpan>, TidbFlags) {
    let mut flags = TidbFlags::default();
    let mut tokens = tokens;
    // `?` placeholders are numbered by their position in the text, since
    // the binder visits clauses in another order (WHERE before SELECT).
    let mut next_param = 0;
    for t in tokens.iter_mut() {
        if matches!(&t.token, Token::Placeholder(p) if p == "?") {
            next_param += 1;
            t.token = Token::Placeholder(format!("?{next_param}"));
        }
    }
    // `COMMENT "text"` (the legacy `"hnsw(distance=cosine)"` column comment):
    // sqlparser accepts only single-quoted comment text.
    let mut after_comment = false;
    for t in tokens.iter_mut() {
        match &t.token {
            Token::Whitespace(_) | Token::Eq if after_comment => continue,
            Token::DoubleQuotedString(text) if after_comment => {
                t.token = Token::SingleQuotedString(text.clone());
            }
            _ => {}
        }
        after_comment = word_is(&t.token, "COMMENT");
    }
    let mut keep = vec![true; tokens.len()];
    let sig: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    for (k, &i) in sig.iter().enumerate() {
        let at = |off: usize| sig.get(k + off).map(|&j| &tokens[j].token);
        let t = &tokens[i].token;
        if word_is(t, "VECTOR") && at(1).is_some_and(|n| word_is(n, "INDEX") || word_is(n, "KEY")) {
            keep[i] = false;
            flags.vector_index = true;
        } else if word_is(t, "VECTOR")
            && at(1) == Some(&Token::Lt)
            && at(2).is_some_and(|n| word_is(n, "FLOAT"))
            && at(3) == Some(&Token::Gt)
        {
            for off in 1..=3 {
                keep[sig[k + off]] = false;
            }
        } else if word_is(t, "ADD_COLUMNAR_REPLICA_ON_DEMAND") {
            keep[i] = false;
        } else if word_is(t, "WITH") && at(1).is_some_and(|n| word_is(n, "PARSER")) {
            if let Some(Token::Word(w)) = at(2) {
                flags.parsers.push(w.value.to_uppercase());
                keep[sig[k + 2]] = false;
            }
            keep[i] = false;
            keep[sig[k + 1]] = false;
        } else if (word_is(t, "INDEX") || word_is(t, "KEY"))
            && k > 0
            && (word_is(&tokens[sig[k - 1]].token, "ADD")
                || word_is(&tokens[sig[k - 1]].token, "VECTOR"))
            && at(1).is_some_and(|n| word_is(n, "IF"))
            && at(2).is_some_and(|n| word_is(n, "NOT"))
            && at(3).is_some_and(|n| word_is(n, "EXISTS"))
        {
            for off in 1..=3 {
                keep[sig[k + off]] = false;
            }
            flags.index_if_not_exists = true;
        } else if word_is(t, "FULLTEXT") && k > 0 && word_is(&tokens[sig[k - 1]].token, "CREATE") {
            keep[i] = false;
            flags.fulltext_index = true;
        }
    }
    let tokens = tokens
        .into_iter()
        .zip(keep)
        .filter_map(|(t, k)| k.then_some(t))
        .collect();
    (tokens, flags)
}

fn parse_one(sql: &str, mut tokens: Vec<TokenWithSpan>, flags: TidbFlags) -> Result<Statement> {
    let first = next_sig(&tokens, 0).map(|i| tokens[i].token.clone());
    // Hand-parsed statements: the parser still provides the primitives.
    let end_span = tokens
        .last()
        .map(|t| t.span)
        .unwrap_or(sqlparser::tokenizer::Span::empty());
    tokens.push(TokenWithSpan {
        token: Token::EOF,
        span: end_span,
    });
    let dialect = MySqlDialect {};
    let mut p = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let result = match first {
        Some(ref t) if word_is(t, "SHOW") => parse_show(&mut p).map(Statement::Show),
        Some(ref t) if word_is(t, "SET") => parse_set(&mut p),
        Some(ref t) if word_is(t, "ALTER") => parse_alter(&mut p, flags),
        Some(ref t)
            if word_is(t, "ADMIN")
                || word_is(t, "FLUSH")
                || word_is(t, "DO")
                || word_is(t, "ANALYZE") =>
        {
            Ok(Statement::NoOp(t.to_string().to_uppercase()))
        }
        _ => p.parse_statement().map(|s| Statement::Sql {
            stmt: Box::new(s),
            flags,
        }),
    };
    let stmt = result.map_err(|e| map_parser_error(sql, &e))?;
    // Anything left over is a syntax error at that token.
    let rest = p.peek_token();
    if rest.token != Token::EOF {
        return Err(parse_error(
            sql,
            rest.span.start.line,
            rest.span.start.column,
        ));
    }
    Ok(stmt)
}

/// TiDB's 1064 text at a 1-based line/column of `sql`.
pub fn parse_error(sql: &str, line: u64, column: u64) -> Error {
    let offset = offset_of(sql, line, column).unwrap_or(sql.len());
    let near: String = sql[offset..].chars().take(80).collect();
    Error::Parse {
        line: line.max(1),
        column: column.saturating_sub(1),
        near,
    }
}

fn offset_of(sql: &str, line: u64, column: u64) -> Option<usize> {
    let mut cur_line = 1u64;
    let mut line_start = 0usize;
    if line > 1 {
        for (i, c) in sql.char_indices() {
            if c == '\n' {
                cur_line += 1;
                line_start = i + 1;
                if cur_line == line {
                    break;
                }
            }
        }
        if cur_line != line {
            return None;
        }
    }
    let rest = &sql[line_start..];
    let col = column.saturating_sub(1) as usize;
    Some(
        line_start
            + rest
                .char_indices()
                .nth(col)
                .map(|(i, _)| i)
                .unwrap_or(rest.len()),
    )
}

/// sqlparser errors end with `at Line: L, Column: C`; use that position.
fn map_parser_error(sql: &str, e: &ParserError) -> Error {
    let msg = e.to_string();
    let pos = msg.rfind("Line: ").and_then(|i| {
        let tail = &msg[i + 6..];
        let (l, rest) = tail.split_once(',')?;
        let c = rest.trim().strip_prefix("Column: ")?;
        let c: String = c.chars().take_while(|ch| ch.is_ascii_digit()).collect();
        Some((l.trim().parse::<u64>().ok()?, c.parse::<u64>().ok()?))
    });
    match pos {
        Some((l, c)) => parse_error(sql, l, c),
        None => Error::Parse {
            line: 1,
            column: 0,
            near: sql.chars().take(80).collect(),
        },
    }
}

fn next_word(p: &mut Parser) -> Option<String> {
    match p.peek_token().token {
        Token::Word(w) => {
            p.next_token();
            Some(w.value)
        }
        _ => None,
    }
}

fn peek_word_is(p: &Parser, w: &str) -> bool {
    word_is(&p.peek_token().token, w)
}

fn eat_word(p: &mut Parser, w: &str) -> bool {
    if peek_word_is(p, w) {
        p.next_token();
        true
    } else {
        false
    }
}

fn parse_show(p: &mut Parser) -> Result<Show, ParserError> {
    p.next_token(); // SHOW
    let mut full = false;
    let mut global = false;
    loop {
        if eat_word(p, "FULL") || eat_word(p, "EXTENDED") {
            full = true;
        } else if eat_word(p, "GLOBAL") {
            global = true;
        } else if eat_word(p, "SESSION") || eat_word(p, "LOCAL") {
        } else {
            break;
        }
    }
    let word = next_word(p).map(|w| w.to_uppercase()).unwrap_or_default();
    let kind = match word.as_str() {
        "DATABASES" | "SCHEMAS" => ShowKind::Databases,
        "TABLES" => ShowKind::Tables,
        "COLUMNS" | "FIELDS" => ShowKind::Columns,
        "INDEX" | "INDEXES" | "KEYS" => ShowKind::Index,
        "CREATE" => {
            let what = next_word(p).map(|w| w.to_uppercase()).unwrap_or_default();
            match what.as_str() {
                "TABLE" | "VIEW" => ShowKind::CreateTable,
                "DATABASE" | "SCHEMA" => {
                    if eat_word(p, "IF") {
                        eat_word(p, "NOT");
                        eat_word(p, "EXISTS");
                    }
                    ShowKind::CreateDatabase
                }
                _ => return p.expected("TABLE or DATABASE", p.peek_token()),
            }
        }
        "VARIABLES" => ShowKind::Variables,
        "STATUS" => ShowKind::Status,
        "WARNINGS" => ShowKind::Warnings,
        "ERRORS" => ShowKind::Errors,
        "COLLATION" => ShowKind::Collation,
        "CHARSET" => ShowKind::CharacterSet,
        "CHARACTER" => {
            eat_word(p, "SET");
            ShowKind::CharacterSet
        }
        "ENGINES" => ShowKind::Engines,
        "PROCESSLIST" => ShowKind::ProcessList,
        "GRANTS" => ShowKind::Grants,
        "PLUGINS" => ShowKind::Plugins,
        "PRIVILEGES" => ShowKind::Privileges,
        "TABLE" => {
            eat_word(p, "STATUS");
            ShowKind::TableStatus
        }
        _ => {
            p.prev_token();
            return p.expected("a SHOW statement tiembed supports", p.peek_token());
        }
    };
    let mut show = Show {
        kind,
        full,
        global,
        from: None,
        from_db: None,
        filter: None,
    };
    if matches!(kind, ShowKind::CreateTable | ShowKind::CreateDatabase) {
        show.from = Some(p.parse_object_name(false)?);
        return Ok(show);
    }
    if kind == ShowKind::Grants {
        // SHOW GRANTS [FOR user]: the rest does not matter here.
        while p.peek_token().token != Token::EOF {
            p.next_token();
        }
        return Ok(show);
    }
    if eat_word(p, "FROM") || eat_word(p, "IN") {
        show.from = Some(p.parse_object_name(false)?);
        if eat_word(p, "FROM") || eat_word(p, "IN") {
            show.from_db = Some(p.parse_identifier()?.value);
        }
    }
    if eat_word(p, "LIKE") {
        show.filter = Some(ShowFilter::Like(p.parse_literal_string()?));
    } else if p.parse_keyword(Keyword::WHERE) {
        show.filter = Some(ShowFilter::Where(p.parse_expr()?));
    }
    Ok(show)
}

fn parse_scope_word(p: &mut Parser) -> Option<SetScope> {
    if eat_word(p, "GLOBAL") {
        Some(SetScope::Global)
    } else if eat_word(p, "SESSION") || eat_word(p, "LOCAL") {
        Some(SetScope::Session)
    } else {
        None
    }
}

fn parse_set(p: &mut Parser) -> Result<Statement, ParserError> {
    p.next_token(); // SET
    let mut items = Vec::new();
    loop {
        items.push(parse_set_item(p)?);
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    Ok(Statement::Set(items))
}

fn parse_set_item(p: &mut Parser) -> Result<SetItem, ParserError> {
    if eat_word(p, "NAMES") {
        let charset = parse_name_or_string(p)?;
        let collation = if eat_word(p, "COLLATE") {
            Some(parse_name_or_string(p)?)
        } else {
            None
        };
        return Ok(SetItem::Names { charset, collation });
    }
    if peek_word_is(p, "CHARACTER") {
        p.next_token();
        if eat_word(p, "SET") {
            return Ok(SetItem::Names {
                charset: parse_name_or_string(p)?,
                collation: None,
            });
        }
        p.prev_token();
    }
    if eat_word(p, "CHARSET") {
        return Ok(SetItem::Names {
            charset: parse_name_or_string(p)?,
            collation: None,
        });
    }
    let mut scope = parse_scope_word(p);
    if eat_word(p, "TRANSACTION") {
        let mut isolation = None;
        loop {
            if eat_word(p, "ISOLATION") {
                eat_word(p, "LEVEL");
                let mut words = Vec::new();
                while let Some(w) = match p.peek_token().token {
                    Token::Word(ref w)
                        if !w.value.eq_ignore_ascii_case("READ") || words.is_empty() =>
                    {
                        Some(w.value.to_uppercase())
                    }
                    _ => None,
                } {
                    p.next_token();
                    words.push(w);
                    if words.len() == 2 || words[0] == "SERIALIZABLE" {
                        break;
                    }
                }
                isolation = Some(words.join("-"));
            } else if eat_word(p, "READ") {
                next_word(p);
            } else {
                break;
            }
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        return Ok(SetItem::Transaction {
            scope: scope.unwrap_or(SetScope::Default),
            isolation,
        });
    }
    // `@x`, `@@x`, `@@global.x`, `@@session.x`: the tokenizer yields the
    // sigils as part of a word or as separate tokens depending on quoting.
    let name = match p.next_token().token {
        Token::Word(w) if w.quote_style.is_none() && w.value.starts_with("@@") => {
            let rest = w.value[2..].to_string();
            sysvar_name(p, rest, &mut scope)?
        }
        Token::Word(w) if w.quote_style.is_none() && w.value.starts_with('@') => {
            let mut name = w.value[1..].to_string();
            if name.is_empty() {
                name = ident_value(p)?;
            }
            expect_assign(p)?;
            return Ok(SetItem::User {
                name,
                value: p.parse_expr()?,
            });
        }
        Token::AtSign => {
            if p.consume_token(&Token::AtSign) {
                let first = ident_value(p)?;
                sysvar_name(p, first, &mut scope)?
            } else {
                let name = ident_value(p)?;
                expect_assign(p)?;
                return Ok(SetItem::User {
                    name,
                    value: p.parse_expr()?,
                });
            }
        }
        Token::Word(w) => w.value,
        _ => {
            p.prev_token();
            return p.expected("a variable name", p.peek_token());
        }
    };
    expect_assign(p)?;
    let value = if p.parse_keyword(Keyword::DEFAULT) {
        SetValue::Default
    } else if let Token::Word(w) = p.peek_token().token {
        // `SET autocommit = ON` / `OFF`: bare words are values, not columns.
        if w.quote_style.is_none()
            && w.keyword != Keyword::NULL
            && !matches!(p.peek_nth_token(1).token, Token::LParen | Token::Period)
            && !matches!(
                w.keyword,
                Keyword::TRUE
                    | Keyword::FALSE
                    | Keyword::CASE
                    | Keyword::CAST
                    | Keyword::NOT
                    | Keyword::INTERVAL
            )
        {
            p.next_token();
            SetValue::Expr(ast::Expr::Value(
                ast::Value::SingleQuotedString(w.value).into(),
            ))
        } else {
            SetValue::Expr(p.parse_expr()?)
        }
    } else {
        SetValue::Expr(p.parse_expr()?)
    };
    Ok(SetItem::System {
        name: name.to_lowercase(),
        scope: scope.unwrap_or(SetScope::Default),
        value,
    })
}

/// After `@@`: `name`, `global.name`, `session.name` (each part may be back-quoted).
fn sysvar_name(
    p: &mut Parser,
    first: String,
    scope: &mut Option<SetScope>,
) -> Result<String, ParserError> {
    let mut first = first;
    if first.is_empty() {
        first = ident_value(p)?;
    }
    // The tokenizer may have kept `global.x` in one word.
    if let Some((s, rest)) = first.split_once('.') {
        if let Some(sc) = scope_of(s) {
            *scope = Some(sc);
            return Ok(rest.to_string());
        }
    }
    if let Some(sc) = scope_of(&first) {
        if p.consume_token(&Token::Period) {
            *scope = Some(sc);
            return ident_value(p);
        }
    }
    Ok(first)
}

fn scope_of(s: &str) -> Option<SetScope> {
    match s.to_ascii_lowercase().as_str() {
        "global" => Some(SetScope::Global),
        "session" | "local" => Some(SetScope::Session),
        _ => None,
    }
}

fn ident_value(p: &mut Parser) -> Result<String, ParserError> {
    match p.next_token().token {
        Token::Word(w) => Ok(w.value),
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
        _ => {
            p.prev_token();
            p.expected("an identifier", p.peek_token())
        }
    }
}

fn expect_assign(p: &mut Parser) -> Result<(), ParserError> {
    if p.consume_token(&Token::Eq) || p.consume_token(&Token::Assignment) {
        Ok(())
    } else {
        p.expected("=", p.peek_token())
    }
}

fn parse_name_or_string(p: &mut Parser) -> Result<String, ParserError> {
    if p.parse_keyword(Keyword::DEFAULT) {
        return Ok("default".into());
    }
    ident_value(p)
}

/// `ALTER TABLE t SET TIFLASH REPLICA n [LOCATION LABELS ..]`,
/// `ALTER TABLE t COMPACT [TIFLASH REPLICA]`; other ALTERs go to sqlparser.
fn parse_alter(p: &mut Parser, flags: TidbFlags) -> Result<Statement, ParserError> {
    let start = p.index();
    p.next_token(); // ALTER
    if eat_word(p, "TABLE") {
        let table = p.parse_object_name(false)?;
        if eat_word(p, "SET") && eat_word(p, "TIFLASH") && eat_word(p, "REPLICA") {
            let count = p.parse_literal_uint()?;
            if eat_word(p, "LOCATION") {
                eat_word(p, "LABELS");
                p.parse_comma_separated(|p| p.parse_literal_string())?;
            }
            return Ok(Statement::SetTiflashReplica { table, count });
        }
        if eat_word(p, "COMPACT") {
            while p.peek_token().token != Token::EOF {
                p.next_token();
            }
            return Ok(Statement::NoOp("ALTER TABLE COMPACT".into()));
        }
    }
    while p.index() > start {
        p.prev_token();
    }
    p.parse_statement().map(|s| Statement::Sql {
        stmt: Box::new(s),
        flags,
    })
}

/// Number of `?` placeholders in `sql` (COM_STMT_PREPARE's parameter count).
pub fn count_params(sql: &str) -> usize {
    let dialect = MySqlDialect {};
    Tokenizer::new(&dialect, sql)
        .tokenize()
        .map(|tokens| {
            tokens
                .iter()
                .filter(|t| matches!(t, Token::Placeholder(p) if p == "?"))
                .count()
        })
        .unwrap_or(0)
}

/// Whether a token is whitespace/comment (exported for statement splitting elsewhere).
pub fn is_whitespace(t: &Token) -> bool {
    matches!(
        t,
        Token::Whitespace(Whitespace::Space | Whitespace::Newline | Whitespace::Tab)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Statement {
        let mut v = parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(v.len(), 1, "{sql}");
        v.remove(0)
    }

    #[test]
    fn vector_index_forms_parse() {
        for sql in [
            "CREATE TABLE t (id INT, v VECTOR(3), VECTOR INDEX idx ((VEC_COSINE_DISTANCE(v))) USING HNSW)",
            "CREATE VECTOR INDEX idx ON t ((VEC_COSINE_DISTANCE(v))) USING HNSW",
            "CREATE VECTOR INDEX idx ON t ((VEC_COSINE_DISTANCE(v))) USING HNSW ADD_COLUMNAR_REPLICA_ON_DEMAND",
            "ALTER TABLE t ADD VECTOR INDEX idx ((VEC_L2_DISTANCE(v))) USING HNSW",
            "CREATE TABLE v (a VECTOR, b VECTOR<FLOAT>(3))",
        ] {
            match one(sql) {
                Statement::Sql { flags, .. } => assert!(flags.vector_index || sql.contains("<FLOAT>"), "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
    }

    #[test]
    fn fulltext_with_parser() {
        match one("CREATE FULLTEXT INDEX fts_idx_text ON chunks (text) WITH PARSER MULTILINGUAL") {
            Statement::Sql { flags, .. } => {
                assert!(flags.fulltext_index);
                assert_eq!(flags.parsers, vec!["MULTILINGUAL"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tiflash_replica() {
        assert!(matches!(
            one("ALTER TABLE t SET TIFLASH REPLICA 1"),
            Statement::SetTiflashReplica { count: 1, .. }
        ));
    }

    #[test]
    fn set_forms() {
        match one("SET @@GLOBAL.`TIDB_EXP_EMBED_HUGGINGFACE_API_KEY` = 'k'") {
            Statement::Set(items) => assert_eq!(
                items[0],
                SetItem::System {
                    name: "tidb_exp_embed_huggingface_api_key".into(),
                    scope: SetScope::Global,
                    value: SetValue::Expr(ast::Expr::Value(
                        ast::Value::SingleQuotedString("k".into()).into()
                    ))
                }
            ),
            other => panic!("{other:?}"),
        }
        match one("SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY = 'k'") {
            Statement::Set(items) => assert!(matches!(
                &items[0],
                SetItem::System {
                    scope: SetScope::Global,
                    ..
                }
            )),
            other => panic!("{other:?}"),
        }
        match one("SET @@session.autocommit = OFF") {
            Statement::Set(items) => assert!(
                matches!(&items[0], SetItem::System { scope: SetScope::Session, name, .. } if name == "autocommit")
            ),
            other => panic!("{other:?}"),
        }
        match one("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_0900_ai_ci'") {
            Statement::Set(items) => assert_eq!(
                items[0],
                SetItem::Names {
                    charset: "utf8mb4".into(),
                    collation: Some("utf8mb4_0900_ai_ci".into())
                }
            ),
            other => panic!("{other:?}"),
        }
        match one("SET AUTOCOMMIT = 0") {
            Statement::Set(items) => assert!(matches!(
                &items[0],
                SetItem::System {
                    scope: SetScope::Default,
                    ..
                }
            )),
            other => panic!("{other:?}"),
        }
        match one("SET @a = 1, GLOBAL max_connections = 10") {
            Statement::Set(items) => {
                assert!(matches!(&items[0], SetItem::User { name, .. } if name == "a"));
                assert!(matches!(
                    &items[1],
                    SetItem::System {
                        scope: SetScope::Global,
                        ..
                    }
                ));
            }
            other => panic!("{other:?}"),
        }
        match one("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") {
            Statement::Set(items) => assert_eq!(
                items[0],
                SetItem::Transaction {
                    scope: SetScope::Session,
                    isolation: Some("READ-COMMITTED".into())
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn show_forms() {
        match one("SHOW INDEXES FROM t WHERE Column_name = 'e' AND Index_type = 'HNSW'") {
            Statement::Show(s) => {
                assert_eq!(s.kind, ShowKind::Index);
                assert!(matches!(s.filter, Some(ShowFilter::Where(_))));
            }
            other => panic!("{other:?}"),
        }
        match one("SHOW FULL TABLES FROM test LIKE 't%'") {
            Statement::Show(s) => assert!(
                s.full
                    && s.kind == ShowKind::Tables
                    && s.filter == Some(ShowFilter::Like("t%".into()))
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            one("show create table t"),
            Statement::Show(Show {
                kind: ShowKind::CreateTable,
                ..
            })
        ));
        assert!(matches!(
            one("SHOW GLOBAL VARIABLES LIKE 'x'"),
            Statement::Show(Show {
                kind: ShowKind::Variables,
                global: true,
                ..
            })
        ));
    }

    #[test]
    fn multi_and_trailing_semicolons() {
        assert_eq!(parse("SELECT 1; SELECT 2;\n").unwrap().len(), 2);
        assert_eq!(parse("\nSELECT 1;  ").unwrap().len(), 1);
    }

    #[test]
    fn errors_name_position() {
        let e = parse("SELECT * FORM t").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("You have an error in your SQL syntax"),
            "{msg}"
        );
        assert!(msg.contains("near \"FORM t\""), "{msg}");
    }
}
