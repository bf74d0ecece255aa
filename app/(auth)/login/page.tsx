import type { Metadata } from "next";
import { LoginForm } from "./login-form";

export const metadata: Metadata = { title: "Sign in" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const LoginPage = async ({ searchParams }: { searchParams: SearchParams }) => {
  const params = await searchParams;
  return (
    <main className="auth-page">
      <LoginForm next={first(params.next) ?? null} expired={first(params.expired) === "1"} oauthError={first(params.error) ?? null} />
    </main>
  );
};

export default LoginPage;
