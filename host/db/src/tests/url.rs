use super::*;

#[test]
fn jdbc_urls_of_every_supported_form() {
    let c = config("jdbc:mysql://localhost:3306/mydb");
    assert_eq!((c.dialect(), c.host(), c.port(), c.database(), c.user()), (Dialect::MySql, "localhost", 3306, Some("mydb"), None));
    let c = config("jdbc:mariadb://db.example/sales?user=app&password=p%40ss&useSSL=false");
    assert_eq!((c.dialect(), c.host(), c.port(), c.database(), c.user()), (Dialect::MySql, "db.example", 3306, Some("sales"), Some("app")));
    let c = config("jdbc:postgresql://127.0.0.1/test");
    assert_eq!((c.dialect(), c.host(), c.port(), c.database()), (Dialect::Postgres, "127.0.0.1", 5432, Some("test")));
    let c = config("jdbc:postgresql://pg.example:6543/app?user=reader&password=x");
    assert_eq!((c.dialect(), c.port(), c.database(), c.user()), (Dialect::Postgres, 6543, Some("app"), Some("reader")));
    let c = config("jdbc:mysql://h:3307");
    assert_eq!((c.port(), c.database()), (3307, None));
    let c = config("jdbc:mysql://[::1]:3308/db");
    assert_eq!((c.host(), c.port()), ("::1", 3308));
    let c = config("jdbc:mysql://u%40corp:pw@h/db");
    assert_eq!(c.user(), Some("u@corp"), "credentials before the host are decoded");
}

#[test]
fn connector_credentials_win_over_the_url() {
    let url = "jdbc:mysql://h/db?user=url-user&password=url-pw";
    let c = ConnectionConfig::from_connector_config(url, Some("root"), Some("conf-pw")).unwrap();
    assert_eq!(c.user(), Some("root"));
    assert!(format!("{c:?}").contains("[hidden]"));
    assert_ne!(c, config(url), "the password is part of the settings");
    assert_eq!(c, ConnectionConfig::from_connector_config("jdbc:mysql://h/db?user=x&password=y", Some("root"), Some("conf-pw")).unwrap());
    // An empty password means none, as it does for JDBC drivers.
    let c = ConnectionConfig::from_connector_config(url, Some("root"), Some("")).unwrap();
    assert!(format!("{c:?}").contains("password: None"), "{c:?}");
}

#[test]
fn bad_urls_name_the_accepted_forms() {
    for bad in [
        "mysql://localhost/db",
        "jdbc:oracle:thin:@host:1521:db",
        "jdbc:sqlserver://h/db",
        "jdbc:mysql:///db",
        "jdbc:postgresql://h1,h2/db",
        "",
    ] {
        let err = ConnectionConfig::from_connector_config(bad, None, None).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SqlError::Denied(_)), "{bad}: {err:?}");
        for form in ["jdbc:mysql://HOST[:PORT]/DATABASE", "jdbc:mariadb://", "jdbc:postgresql://"] {
            assert!(text.contains(form), "{bad}: {text}");
        }
    }
    let err = ConnectionConfig::from_connector_config("jdbc:sqlserver://h/db", None, None).unwrap_err().to_string();
    assert!(err.contains("\"sqlserver\""), "names what was given: {err}");
}

#[test]
fn passwords_never_show() {
    for url in ["jdbc:db2://h/db?user=u&password=s3cret", "jdbc:db2://u:s3cret@h/db", "jdbc:mysql://h1,h2/db?password=s3cret"] {
        let err = ConnectionConfig::from_connector_config(url, None, None).unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
    let c = ConnectionConfig::from_connector_config("jdbc:mysql://h/db?password=url-s3cret", Some("u"), Some("s3cret")).unwrap();
    let shown = format!("{c:?} {}", c.describe());
    assert!(!shown.contains("s3cret") && shown.contains("[hidden]"), "{shown}");
    let c = config("jdbc:postgresql://h/db?user=u&password=s3cret");
    assert!(!format!("{c:?}").contains("s3cret"));
}

#[test]
fn a_sqlite_url_names_a_file_and_nothing_else() {
    let config = ConnectionConfig::from_connector_config("jdbc:sqlite:/var/data/shop.db", Some("ignored"), None).unwrap();
    assert_eq!((config.dialect(), config.database()), (Dialect::Sqlite, Some("/var/data/shop.db")));
    assert_eq!(config.user(), None, "SQLite has no users");
    let relative = ConnectionConfig::from_connector_config("jdbc:sqlite://data/shop.db", None, None).unwrap();
    assert_eq!(relative.database(), Some("data/shop.db"));
    let err = ConnectionConfig::from_connector_config("jdbc:sqlite:", None, None).unwrap_err();
    assert!(err.to_string().contains("names no database file"), "{err}");
}
