"""Password login against a Cognito user pool (the default identity provider on AWS and, through moto, locally).

Nothing outside this module knows the IdP is Cognito: the rest of the platform sees `IdentityProvider` and
verifies tokens with the OIDC-generic verifier.
"""

from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.domain.errors import Unauthenticated
from chalicelib.services.ports import Tokens


class CognitoIdentityProvider:
    def __init__(self, client_id: str):
        self.client_id = client_id

    def authenticate(self, username: str, password: str) -> Tokens:
        from botocore.exceptions import ClientError

        try:
            resp = aws.client("cognito-idp").initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
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
        return Tokens(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken"),
            expires_in=int(result.get("ExpiresIn", 3600)),
        )
