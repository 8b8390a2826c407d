-- Conversations: a tenant's follow-up questions, each turn with the standalone question retrieval used.
CREATE TABLE answer.conversations (
    id          uuid PRIMARY KEY,
    tenant      text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_tenant ON answer.conversations (tenant, update_time);

CREATE TABLE answer.turns (
    conversation_id     uuid NOT NULL REFERENCES answer.conversations (id) ON DELETE CASCADE,
    turn                integer NOT NULL,
    question            text NOT NULL,
    standalone_question text NOT NULL,
    answer              text NOT NULL,
    found               boolean NOT NULL,
    generator           text NOT NULL,
    create_time         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, turn)
);

-- Document summaries, per tenant, document version and generator.
CREATE TABLE answer.summaries (
    tenant      text NOT NULL,
    document    text NOT NULL,
    version     text NOT NULL,
    generator   text NOT NULL,
    summary     text NOT NULL,
    pages       integer[] NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, document, generator)
);
