using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage.Actions;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>The owner withdrawing inserters and delegates, inserters' attributes, and the owner's and grantee's credential reads.</summary>
public abstract partial class IdosActionTests<TStore>
{
    [Fact]
    public void The_owner_withdraws_delegates_and_inserters_and_with_them_the_right_to_insert()
    {
        AddUserWithWallet();
        var attribute = Guid.NewGuid();
        KwilValue[] Attribute(Guid id, Guid user) => [KwilValue.OfUuid(id), KwilValue.OfUuid(user), KwilValue.OfText("nationality"), KwilValue.OfText("PT")];

        Assert.Equal(ActionError.Unauthorized, Refusal(UserAddress, "add_attribute_as_inserter", Attribute(attribute, User)).Error);
        Assert.Equal(ActionError.NotFound, Refusal(IssuerKey, "add_attribute_as_inserter", Attribute(attribute, Guid.NewGuid())).Error);
        Run(IssuerKey, "add_attribute_as_inserter", Attribute(attribute, User));
        Assert.Equal(ActionError.Conflict, Refusal(IssuerKey, "add_attribute_as_inserter", Attribute(attribute, User)).Error);
        Assert.Equal("issuer", State.Connection.GetTable<UserAttributeRow>().Single(a => a.Id == attribute).Inserter);

        Assert.Equal(ActionError.Unauthorized, Refusal(IssuerKey, "delete_delegate_as_owner", KwilValue.OfText(IssuerKey)).Error);
        Run(OwnerKey, "delete_delegate_as_owner", KwilValue.OfText(IssuerKey.ToUpperInvariant()));
        Assert.Equal("Unauthorized inserter", Refusal(IssuerKey, "add_attribute_as_inserter", Attribute(Guid.NewGuid(), User)).Message);

        Run(OwnerKey, "add_delegate_as_owner", KwilValue.OfText(IssuerKey), KwilValue.OfUuid(Inserter));
        Assert.Equal(ActionError.Unauthorized, Refusal(IssuerKey, "delete_inserter_as_owner", KwilValue.OfUuid(Inserter)).Error);
        Run(OwnerKey, "delete_inserter_as_owner", KwilValue.OfUuid(Inserter));
        Assert.Empty(State.Connection.GetTable<DelegateRow>());
        Assert.Equal(ActionError.Unauthorized, Refusal(IssuerKey, "get_user_as_inserter", KwilValue.OfUuid(User)).Error);
    }

    [Fact]
    public void An_owner_reads_their_credential_and_a_grantee_the_grants_on_it_while_the_lock_is_reported()
    {
        AddUserWithWallet();
        using var issuer = IssuerOfInserter();
        var original = Guid.NewGuid();
        var copy = Guid.NewGuid();
        const long Lock = 1_700_000_100;
        Run(UserAddress, "add_credential", Credential(original, issuer.Key, issuer.Hex, "{}", "c2VjcmV0"));
        Run(UserAddress, "share_credential", Share(copy, original, issuer.Key, issuer.Hex, "", Grantee, Lock));

        Assert.Equal("c2VjcmV0", Assert.Single(Run(UserAddress, "get_credential_owned", KwilValue.OfUuid(original)).Rows)[3]);
        Assert.Empty(Run(UserAddress, "get_credential_owned", KwilValue.OfUuid(Guid.NewGuid())).Rows);

        // Someone without a profile learns only that: not whether the credential exists.
        Assert.Equal(Refusal(Grantee, "get_credential_owned", KwilValue.OfUuid(Guid.NewGuid())).Message,
            Refusal(Grantee, "get_credential_owned", KwilValue.OfUuid(original)).Message);

        Assert.Equal(copy, Assert.Single(Run(Grantee, "get_access_grants_for_credential", KwilValue.OfUuid(copy)).Rows)[3]);
        Assert.Empty(Run(UserAddress, "get_access_grants_for_credential", KwilValue.OfUuid(copy)).Rows);
        Assert.Empty(Run(Grantee, "get_access_grants_for_credential", KwilValue.OfUuid(original)).Rows);

        bool Locked(long blockTime) => (bool)IdosActions.Execute(State.Connection, Context(UserAddress) with { BlockTimestamp = blockTime }, "main",
            "has_locked_access_grants", [KwilValue.OfUuid(copy)], fromView: true).Rows[0][0]!;
        Assert.True(Locked(Lock));
        Assert.False(Locked(Lock + 1));
    }
}
