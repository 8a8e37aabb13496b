"""Password login and user administration against a Cognito user pool (the default identity provider on AWS and,
through moto, locally).

Nothing outside this module knows the IdP is Cognito: the rest of the platform sees `IdentityProvider` /
`IdentityAdmin` and verifies tokens with the OIDC-generic verifier. Cognito proves the password; the platform's
account record decides role, region, enterprise, state, second factor and sessions (see services/auth.py).
"""

from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import InvalidInput, Unauthenticated
from chalicelib.observability import logger
from chalicelib.services.ports import Tokens


def _code(exc) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _tokens(result: dict, refresh_token: str | None = None) -> Tokens:
    return Tokens(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        refresh_token=result.get("RefreshToken") or refresh_token,
        expires_in=int(result.get("ExpiresIn", 3600)),
    )


class CognitoIdentityProvider:
    def __init__(self, client_id: str, *, revoke_tokens: bool = True):
        self.client_id = client_id
        self.revoke_tokens = revoke_tokens

    def authenticate(self, username: str, password: str) -> Tokens:
        from botocore.exceptions import ClientError

        try:
            resp = aws.client("cognito-idp").initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as exc:
            code = _code(exc)
            if code in ("NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"):
                # One message for all three: do not reveal which usernames exist.
                raise Unauthenticated("用户名或密码错误") from None
            if code == "PasswordResetRequiredException":
                raise Unauthenticated("密码需要重置，请联系管理员") from None
            raise
        result = resp.get("AuthenticationResult")
        if not result:
            # A challenge (NEW_PASSWORD_REQUIRED, MFA...) that this API does not complete.
            raise Unauthenticated(f"账号需要完成额外验证（{resp.get('ChallengeName', '未知')}），请联系管理员")
        return _tokens(result)

    def refresh(self, refresh_token: str) -> Tokens:
        from botocore.exceptions import ClientError

        try:
            resp = aws.client("cognito-idp").initiate_auth(
                ClientId=self.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except ClientError as exc:
            if _code(exc) in ("NotAuthorizedException", "UserNotFoundException"):
                raise Unauthenticated("登录已过期，请重新登录") from None
            raise
        return _tokens(resp["AuthenticationResult"], refresh_token)

    def revoke(self, refresh_token: str) -> None:
        from botocore.exceptions import ClientError

        if not self.revoke_tokens:
            return
        try:
            aws.client("cognito-idp").revoke_token(Token=refresh_token, ClientId=self.client_id)
        except ClientError as exc:
            # The platform session is already gone, which is what refuses the tokens; the IdP-side revocation is
            # defence in depth.
            logger().warning("refresh token not revoked at the IdP", extra={"code": _code(exc)})


class CognitoIdentityAdmin:
    """Cognito users as the platform's accounts say. Passwords are set as permanent: the platform forces the first
    change itself (with its own policy and history), so Cognito never answers with a challenge."""

    manages_passwords = True

    def __init__(self, user_pool_id: str):
        self.pool = user_pool_id

    @property
    def _idp(self):
        return aws.client("cognito-idp")

    def _attributes(self, a: Account) -> list[dict[str, str]]:
        values = {
            "name": a.display_name,
            "custom:region_code": a.region_code or "",
            "custom:uscc": a.uscc or "",
            "custom:org_name": a.org_name or "",
        }
        return [{"Name": k, "Value": v} for k, v in values.items()]

    def create_user(self, account: Account, password: str | None) -> str:
        from botocore.exceptions import ClientError

        try:
            resp = self._idp.admin_create_user(
                UserPoolId=self.pool,
                Username=account.username,
                UserAttributes=[x for x in self._attributes(account) if x["Value"]],
                MessageAction="SUPPRESS",
            )
        except ClientError as exc:
            if _code(exc) == "UsernameExistsException":
                raise InvalidInput(f"用户名“{account.username}”已被使用", details=[{"field": "username"}]) from None
            raise
        if password:
            self.set_password(account.username, password)
        self._idp.admin_add_user_to_group(UserPoolId=self.pool, Username=account.username, GroupName=account.role.value)
        attrs = {a["Name"]: a["Value"] for a in resp["User"].get("Attributes", [])}
        return attrs.get("sub") or account.username

    def delete_user(self, username: str) -> None:
        self._idp.admin_delete_user(UserPoolId=self.pool, Username=username)

    def set_password(self, username: str, password: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._idp.admin_set_user_password(
                UserPoolId=self.pool, Username=username, Password=password, Permanent=True
            )
        except ClientError as exc:
            if _code(exc) == "InvalidPasswordException":
                raise InvalidInput("密码不符合身份认证服务的密码策略", details=[{"field": "password"}]) from None
            raise

    def update_user(self, account: Account) -> None:
        self._idp.admin_update_user_attributes(
            UserPoolId=self.pool, Username=account.username, UserAttributes=self._attributes(account)
        )
        groups = self._idp.admin_list_groups_for_user(UserPoolId=self.pool, Username=account.username)["Groups"]
        for g in groups:
            if g["GroupName"] != account.role.value:
                self._idp.admin_remove_user_from_group(
                    UserPoolId=self.pool, Username=account.username, GroupName=g["GroupName"]
                )
        if account.role.value not in {g["GroupName"] for g in groups}:
            self._idp.admin_add_user_to_group(
                UserPoolId=self.pool, Username=account.username, GroupName=account.role.value
            )

    def sign_out(self, username: str) -> None:
        self._idp.admin_user_global_sign_out(UserPoolId=self.pool, Username=username)
