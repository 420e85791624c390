-- The HTTP service (nps-service): its tenants, their token hashes (SHA-256 hex of the token; the
-- token itself is shown once and never stored) and which run belongs to whom. The run's own record
-- stays in the event journal; state and best accuracy here are what the service last saw, so a
-- tenant's runs list without asking every run. Same SQL for H2 and PostgreSQL.
CREATE TABLE nps_tenant (
    name VARCHAR(64) PRIMARY KEY,
    weight DOUBLE PRECISION NOT NULL,
    max_runs INTEGER NOT NULL,
    max_slots INTEGER NOT NULL,
    max_bytes BIGINT NOT NULL,
    submissions_per_minute INTEGER NOT NULL,
    revoked BOOLEAN DEFAULT FALSE NOT NULL,
    created_millis BIGINT NOT NULL
);

CREATE TABLE nps_tenant_token (
    sha256 CHAR(64) PRIMARY KEY,
    tenant VARCHAR(64) NOT NULL REFERENCES nps_tenant(name),
    created_millis BIGINT NOT NULL
);

CREATE TABLE nps_service_run (
    id VARCHAR(128) PRIMARY KEY,
    tenant VARCHAR(64) NOT NULL REFERENCES nps_tenant(name),
    created_millis BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    best_accuracy DOUBLE PRECISION,
    description VARCHAR(4000) NOT NULL
);

CREATE INDEX nps_service_run_by_tenant ON nps_service_run(tenant, created_millis);
