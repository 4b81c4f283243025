// Medusa 2.8 core for Hélio's test tier: PostgreSQL and Redis from the machine, no admin UI.
const { defineConfig, Modules } = require("@medusajs/framework/utils")

const redisUrl = process.env.REDIS_URL

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    redisUrl,
    http: {
      storeCors: "*",
      adminCors: "*",
      authCors: "*",
      jwtSecret: process.env.JWT_SECRET,
      cookieSecret: process.env.COOKIE_SECRET,
      jwtExpiresIn: process.env.JWT_EXPIRES_IN || "1d",
    },
  },
  admin: { disable: true },
  modules: redisUrl
    ? {
        [Modules.CACHE]: { resolve: "@medusajs/medusa/cache-redis", options: { redisUrl } },
        [Modules.EVENT_BUS]: { resolve: "@medusajs/medusa/event-bus-redis", options: { redisUrl } },
        [Modules.WORKFLOW_ENGINE]: {
          resolve: "@medusajs/medusa/workflow-engine-redis",
          options: { redis: { url: redisUrl } },
        },
      }
    : {},
})
