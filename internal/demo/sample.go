package demo

// sampleSQL creates the demo database's tables, rows and the two roles the
// demo contract can grant. It runs as the cluster's superuser.
const sampleSQL = `
CREATE TABLE customers (
	id    integer PRIMARY KEY,
	name  text NOT NULL,
	email text NOT NULL,
	city  text NOT NULL
);
INSERT INTO customers VALUES
	(1, 'Ada Lovelace',   'ada@example.com',   'London'),
	(2, 'Grace Hopper',   'grace@example.com', 'New York'),
	(3, 'Edsger Dijkstra','edsger@example.com','Eindhoven'),
	(4, 'Barbara Liskov', 'barbara@example.com','Boston'),
	(5, 'Ken Thompson',   'ken@example.com',   'Berkeley');

CREATE TABLE orders (
	id          integer PRIMARY KEY,
	customer_id integer NOT NULL REFERENCES customers(id),
	item        text NOT NULL,
	amount_eur  numeric(10,2) NOT NULL,
	placed_at   timestamptz NOT NULL
);
INSERT INTO orders VALUES
	(101, 1, 'Analytical engine gears', 1200.00, '2026-11-02 10:15+00'),
	(102, 2, 'COBOL manual',              35.50, '2026-11-03 08:40+00'),
	(103, 3, 'Semaphore kit',             19.99, '2026-11-05 16:05+00'),
	(104, 4, 'Abstraction primer',        42.00, '2026-11-08 12:00+00'),
	(105, 5, 'Unix tape',                 99.00, '2026-11-09 09:30+00'),
	(106, 1, 'Punch cards (box)',         12.75, '2026-11-10 14:20+00');

CREATE ROLE readonly NOLOGIN;
GRANT USAGE ON SCHEMA public TO readonly;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO readonly;

CREATE ROLE readwrite NOLOGIN;
GRANT USAGE ON SCHEMA public TO readwrite;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO readwrite;
`

// adminSQL creates the role jitgate uses to mint and drop temporary roles.
// In PostgreSQL 15 a CREATEROLE role may grant membership in any
// non-superuser role, which is all the issuer needs.
const adminSQL = `CREATE ROLE jitgate_admin LOGIN CREATEROLE PASSWORD %s`
