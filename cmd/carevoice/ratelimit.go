package main

import (
	"fmt"
	"os"

	"github.com/carevoice/carevoice/api"
)

// rateLimitsFromEnv reads CAREVOICE_RATE_LIMIT_IP and
// CAREVOICE_RATE_LIMIT_KIOSK ("30/m", "2/s", "off"); unset means the defaults.
func rateLimitsFromEnv() (api.RateLimits, error) {
	rl := api.DefaultRateLimits
	for _, v := range []struct {
		env string
		r   *api.Rate
	}{{"CAREVOICE_RATE_LIMIT_IP", &rl.PerIP}, {"CAREVOICE_RATE_LIMIT_KIOSK", &rl.PerKiosk}} {
		if s := os.Getenv(v.env); s != "" {
			r, err := api.ParseRate(s)
			if err != nil {
				return rl, fmt.Errorf("%s: %w", v.env, err)
			}
			*v.r = r
		}
	}
	return rl, nil
}
