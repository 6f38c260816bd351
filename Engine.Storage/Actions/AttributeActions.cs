using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>A user's attributes and the copies shared from them.</summary>
internal static class AttributeActions
{
    public static void Register(ActionTable actions)
    {
        actions.Add("add_attribute", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            InsertAttribute(s, a.Uuid(0), userId, a.RequiredText(1), a.RequiredText(2), null);
            return ActionOutcome.None;
        });
        actions.Add("add_attribute_as_inserter", (s, a) =>
        {
            var inserter = s.RequireDelegateInserter();
            InsertAttribute(s, a.Uuid(0), a.Uuid(1), a.RequiredText(2), a.RequiredText(3), inserter);
            return ActionOutcome.None;
        });
        actions.Add("get_attributes", (s, _) =>
        {
            var userId = s.RequireCallerUserId();
            var rows = from attribute in s.Db.GetTable<UserAttributeRow>()
                       where attribute.UserId == userId
                       from shared in s.Db.GetTable<SharedUserAttributeRow>().LeftJoin(x => x.CopyId == attribute.Id)
                       orderby attribute.Id
                       select new { attribute.Id, attribute.UserId, attribute.AttributeKey, attribute.Value, OriginalId = (Guid?)shared.OriginalId };
            return ActionOutcome.Table(["id", "user_id", "attribute_key", "value", "original_id"],
                rows.AsEnumerable().Select(r => new object?[] { r.Id, r.UserId, r.AttributeKey, r.Value, r.OriginalId }));
        });
        actions.Add("edit_attribute", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            if (s.Db.GetTable<SharedUserAttributeRow>().Any(x => x.CopyId == id))
            {
                throw new ActionFailedException(ActionError.Conflict, "Can't edit shared attribute");
            }

            var updated = s.Db.GetTable<UserAttributeRow>().Where(x => x.Id == id && x.UserId == userId)
                .Set(x => x.AttributeKey, a.RequiredText(1))
                .Set(x => x.Value, a.RequiredText(2))
                .Update();
            return updated == 1 ? ActionOutcome.None : throw new ActionFailedException(ActionError.NotFound, $"attribute {id} is not the caller's");
        });
        actions.Add("remove_attribute", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            s.Db.GetTable<UserAttributeRow>().Where(x => x.Id == id && x.UserId == userId).Delete();
            return ActionOutcome.None;
        });
        actions.Add("share_attribute", (s, a) =>
        {
            var userId = s.RequireCallerUserId();
            var id = a.Uuid(0);
            var original = a.Uuid(1);
            if (!s.Db.GetTable<UserAttributeRow>().Any(x => x.Id == original))
            {
                throw new ActionFailedException(ActionError.NotFound, $"attribute {original} does not exist");
            }

            InsertAttribute(s, id, userId, a.RequiredText(2), a.RequiredText(3), null);
            s.Db.Insert(new SharedUserAttributeRow { OriginalId = original, CopyId = id });
            return ActionOutcome.None;
        });
    }

    private static void InsertAttribute(ActionScope s, Guid id, Guid userId, string key, string value, string? inserter)
    {
        if (!s.Statements.ExistsWithKey<UserRow>(userId))
        {
            throw new ActionFailedException(ActionError.NotFound, $"user {userId} does not exist");
        }

        s.InsertNew(new UserAttributeRow { Id = id, UserId = userId, AttributeKey = key, Value = value, Inserter = inserter }, $"attribute {id}");
    }
}
