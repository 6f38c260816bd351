using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Migrations;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using LinqToDB.Data;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// The idOS schema as the migrations create it, with the same tests on SQLite and on a real PostgreSQL server:
/// rows round-trip, deletes cascade as schema.sql says, and its CHECK and UNIQUE constraints hold.
/// </summary>
public abstract class StateSchemaTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    [Fact]
    public void Migrations_apply_once_and_reopening_applies_nothing_again()
    {
        using (var first = StateDatabase.Open(Options))
        {
            Assert.Equal(StateMigrations.All.Select(m => m.Version), first.AppliedVersions());
        }

        using var again = StateDatabase.Open(Options);
        Assert.Equal(StateMigrations.All.Select(m => m.Version), again.AppliedVersions());
    }

    [Fact]
    public void Rows_round_trip_with_their_uuids_and_deleting_a_user_removes_everything_of_theirs()
    {
        using var state = StateDatabase.Open(Options);
        var db = state.Connection;
        var user = new UserRow { Id = Guid.NewGuid(), RecipientEncryptionPublicKey = "pk", EncryptionPasswordStore = "user", Inserter = "issuer" };
        var credential = new CredentialRow
        {
            Id = Guid.NewGuid(), UserId = user.Id, PublicNotes = "{}", Content = "ciphertext", EncryptorPublicKey = "e", IssuerAuthPublicKey = "i",
        };
        var copy = new CredentialRow { Id = Guid.NewGuid(), UserId = user.Id, PublicNotes = "", Content = "copy", EncryptorPublicKey = "e", IssuerAuthPublicKey = "i" };
        db.Insert(user);
        db.Insert(new WalletRow { Id = Guid.NewGuid(), UserId = user.Id, Address = "0xabc", WalletType = "EVM" });
        db.Insert(credential);
        db.Insert(copy);
        db.Insert(new SharedCredentialRow { OriginalId = credential.Id, CopyId = copy.Id });
        db.Insert(new UserAttributeRow { Id = Guid.NewGuid(), UserId = user.Id, AttributeKey = "k", Value = "v" });
        var grantId = Guid.NewGuid();
        db.Insert(new AccessGrantRow
        {
            Id = grantId, OwnerUserId = user.Id, GranteeWalletIdentifier = "0xdef", DataId = copy.Id, LockedUntil = 1_700_000_000, Height = 5,
            InserterType = "owner", InserterId = "0xabc",
        });
        var writeGrant = Guid.NewGuid();
        db.Insert(new ConsumedWriteGrantRow
        {
            Id = writeGrant, OwnerWalletIdentifier = "0xabc", GranteeWalletIdentifier = "0xdef", IssuerPublicKey = "i",
            OriginalCredentialId = credential.Id, CopyCredentialId = copy.Id,
        });

        var stored = db.GetTable<CredentialRow>().Single(c => c.Id == credential.Id);
        Assert.Equal(user.Id, stored.UserId);
        Assert.Equal("0", stored.IssuerFee);
        Assert.Equal("100000000000000000000", db.GetTable<UserRow>().Single(u => u.Id == user.Id).GasAllowance);
        Assert.Equal(1_700_000_000, db.GetTable<AccessGrantRow>().Single(g => g.Id == grantId).LockedUntil);

        db.GetTable<UserRow>().Where(u => u.Id == user.Id).Delete();

        Assert.Empty(db.GetTable<WalletRow>());
        Assert.Empty(db.GetTable<CredentialRow>());
        Assert.Empty(db.GetTable<SharedCredentialRow>());
        Assert.Empty(db.GetTable<UserAttributeRow>());
        Assert.Empty(db.GetTable<AccessGrantRow>());
        var consumed = db.GetTable<ConsumedWriteGrantRow>().Single(g => g.Id == writeGrant);
        Assert.Null(consumed.OriginalCredentialId);
        Assert.Null(consumed.CopyCredentialId);
    }

    [Fact]
    public void The_schemas_check_and_unique_constraints_refuse_bad_rows()
    {
        using var state = StateDatabase.Open(Options);
        var db = state.Connection;
        var user = new UserRow { Id = Guid.NewGuid(), RecipientEncryptionPublicKey = "pk", EncryptionPasswordStore = "user", Inserter = "issuer" };
        db.Insert(user);

        Assert.ThrowsAny<System.Data.Common.DbException>(() => db.Insert(new WalletRow { Id = Guid.NewGuid(), UserId = user.Id, Address = "x", WalletType = "Bitcoin" }));
        Assert.ThrowsAny<System.Data.Common.DbException>(() => db.Insert(new UserRow { Id = Guid.NewGuid(), RecipientEncryptionPublicKey = "pk", EncryptionPasswordStore = "cloud", Inserter = "i" }));
        Assert.ThrowsAny<System.Data.Common.DbException>(() => db.Insert(new WalletRow { Id = Guid.NewGuid(), UserId = Guid.NewGuid(), Address = "x", WalletType = "EVM" }));
        db.Insert(new InserterRow { Id = Guid.NewGuid(), Name = "issuer" });
        Assert.ThrowsAny<System.Data.Common.DbException>(() => db.Insert(new InserterRow { Id = Guid.NewGuid(), Name = "issuer" }));
    }

}

[Trait("Category", "Unit")]
public sealed class SqliteStateSchemaTests : StateSchemaTests<SqliteTestFile>
{
    [Fact]
    public void The_file_runs_with_foreign_keys_wal_full_sync_and_secure_delete()
    {
        using var state = StateDatabase.Open(Options);

        Assert.Equal(1L, state.Connection.Execute<long>("PRAGMA foreign_keys"));
        Assert.Equal("wal", state.Connection.Execute<string>("PRAGMA journal_mode"));
        Assert.Equal(2L, state.Connection.Execute<long>("PRAGMA synchronous"));
        Assert.Equal(1L, state.Connection.Execute<long>("PRAGMA secure_delete"));
    }

    /// <summary>Every user-signed action looks its caller up; a scan of all wallets there costs milliseconds per transaction.</summary>
    [Fact]
    public void The_caller_lookup_searches_indexes_and_scans_no_wallets()
    {
        using var state = StateDatabase.Open(Options);

        var plan = state.Connection.Query(reader => reader.GetString(3), "EXPLAIN QUERY PLAN " + Engine.Storage.Actions.ActionScope.UsersOfCallerSql,
            new DataParameter("p0", "0xab"), new DataParameter("p1", "0xAB")).ToList();

        Assert.Contains(plan, step => step.Contains("wallets_lower_address", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN wallets", StringComparison.Ordinal));
    }
}

/// <summary>Against the server in IDOS_TEST_PG (CI starts one); each test gets a schema of its own, dropped afterwards.</summary>
[Trait("Category", "Postgres")]
public sealed class PostgresStateSchemaTests : StateSchemaTests<PostgresTestSchema>;
